// The decoders an embedded replica trusts nothing to: its metadata file and
// the frames a primary sends.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "error.hpp"
#include "sync_metadata.hpp"
#include "wal_frames.hpp"

namespace aiolibsql::replica {
namespace {

std::string frame(std::uint32_t page, std::uint32_t commit_size) {
  std::string bytes(kFrameSize, '\0');
  for (int i = 0; i < 4; ++i) {
    bytes[static_cast<std::size_t>(i)] = static_cast<char>(page >> (24 - 8 * i));
    bytes[static_cast<std::size_t>(4 + i)] = static_cast<char>(commit_size >> (24 - 8 * i));
  }
  // A first page starts as every database file does.
  if (page == 1) bytes.replace(kFrameHeaderSize, 16, std::string("SQLite format 3\0", 16));
  return bytes;
}

int corrupt_code(std::string_view text) {
  try {
    decode_sync_metadata(text);
  } catch (const DbError& error) {
    return error.error().sqlite_code;
  }
  return 0;
}

TEST(SyncMetadata, EncodesAsLibsqlsOwnClientDoes) {
  // The official client's file for generation 1 with nothing pulled.
  EXPECT_EQ(encode_sync_metadata({1, 0}), R"({"hash":3278479626,"version":0,"durable_frame_num":0,"generation":1})");
  EXPECT_EQ(decode_sync_metadata(R"({"generation":1,"durable_frame_num":3,"version":0,"hash":1306961641})"),
            (SyncMetadata{1, 3}));
}

TEST(SyncMetadata, RoundTripsAnyGenerationAndFrame) {
  for (const SyncMetadata metadata : {SyncMetadata{1, 0}, SyncMetadata{7, 123456}, SyncMetadata{UINT32_MAX, 1}}) {
    EXPECT_EQ(decode_sync_metadata(encode_sync_metadata(metadata)), metadata);
  }
}

TEST(SyncMetadata, RefusesAnythingButAValidFileAsCorrupt) {
  for (const char* text : {"", "{", "[]", "null", R"({"hash":1,"version":0,"durable_frame_num":0,"generation":1})",
                           R"({"hash":3278479626,"version":1,"durable_frame_num":0,"generation":1})",
                           R"({"hash":3278479626,"version":0,"durable_frame_num":-1,"generation":1})",
                           R"({"hash":3278479626,"version":0,"generation":1})",
                           R"({"hash":4294967296,"version":0,"durable_frame_num":0,"generation":1})"}) {
    EXPECT_EQ(corrupt_code(text), 11) << text;  // SQLITE_CORRUPT
  }
  // Generation 0 does not exist, even with a matching hash.
  EXPECT_EQ(corrupt_code(encode_sync_metadata({0, 0})), 11);
}

TEST(SyncMetadata, AMissingFileReadsAsNothingAndAWrittenOneReadsBack) {
  const auto directory = std::filesystem::temp_directory_path() / ("sync-metadata-" + std::to_string(::getpid()));
  std::filesystem::create_directories(directory);
  const std::string path = metadata_path((directory / "replica.db").string());
  EXPECT_EQ(read_sync_metadata(path), std::nullopt);
  write_sync_metadata(path, {3, 42});
  EXPECT_EQ(read_sync_metadata(path), (SyncMetadata{3, 42}));
  // No temporary file is left beside it.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(directory), std::filesystem::directory_iterator()), 1);
  std::filesystem::remove_all(directory);
}

TEST(WalFrames, RefusesAFirstPageThatIsNotADatabasesOwn) {
  std::string garbage = frame(1, 1);
  garbage.replace(kFrameHeaderSize, 16, std::string(16, 'x'));
  EXPECT_THROW(split_frames(garbage), DbError);
  EXPECT_NO_THROW(split_frames(frame(1, 1)));
}

TEST(WalFrames, SplitsABodyIntoFramesAndFindsTheCommits) {
  const std::string body = frame(1, 0) + frame(2, 2) + frame(3, 3);
  const auto frames = split_frames(body);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].page_number, 1u);
  EXPECT_FALSE(frames[0].is_commit());
  EXPECT_EQ(frames[1].commit_size, 2u);
  EXPECT_TRUE(frames[2].is_commit());
  EXPECT_EQ(frames[2].bytes.size(), kFrameSize);
}

TEST(WalFrames, RefusesBodiesThatAreNotWholeValidFrames) {
  for (const std::string& body :
       {std::string(), std::string(kFrameSize - 1, '\0'), frame(1, 1) + "x", frame(0, 1), frame(5, 2) + frame(1, 0)}) {
    EXPECT_THROW(split_frames(body), DbError) << body.size();
  }
}

}  // namespace
}  // namespace aiolibsql::replica
