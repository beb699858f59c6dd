// The decoders of the replication log protocol (v1), which a replica trusts
// nothing to: gRPC-web framing, the service's messages, the log's frames and
// the metadata file libSQL's Rust client writes.
#include <gtest/gtest.h>

#include <string>

#include "error.hpp"
#include "grpc_web.hpp"
#include "log_client.hpp"
#include "log_frames.hpp"
#include "log_metadata.hpp"
#include "proto/replication_log.pb.h"
#include "wal_frames.hpp"

namespace aiolibsql::replica {
namespace {

std::string trailers(const std::string& lines) {
  std::string frame = grpc_web_frame(lines);
  frame[0] = static_cast<char>(0x80);
  return frame;
}

std::string log_frame(std::uint64_t number, std::uint32_t page, std::uint32_t commit_size, char fill = 'x') {
  std::string bytes;
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>(number >> (8 * i)));
  bytes.append(8, '\x5a');  // a checksum, which the replica leaves alone
  for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<char>(page >> (8 * i)));
  for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<char>(commit_size >> (8 * i)));
  bytes.append(kPageSize, fill);
  if (page == 1) bytes.replace(kFrameHeaderSize, 16, std::string("SQLite format 3\0", 16));
  return bytes;
}

bool refused(auto&& decode) {
  try {
    decode();
  } catch (const DbError&) {
    return true;
  }
  return false;
}

TEST(GrpcWeb, ReadsMessagesThenTheStatusInTheTrailers) {
  const auto answer = decode_grpc_web(grpc_web_frame("one") + grpc_web_frame("") +
                                      trailers("grpc-status: 9\r\ngrpc-message: NEED_SNAPSHOT\r\n"));
  EXPECT_EQ(answer.messages, (std::vector<std::string>{"one", ""}));
  EXPECT_EQ(answer.status, 9U);
  EXPECT_EQ(answer.message, "NEED_SNAPSHOT");
}

TEST(GrpcWeb, TakesTheStatusFromTheHeadersWhenTheBodyHasNoTrailers) {
  const auto answer = decode_grpc_web("", "grpc-status: 16\r\ngrpc-message: bad token\r\n");
  EXPECT_TRUE(answer.messages.empty());
  EXPECT_EQ(answer.status, 16U);
  EXPECT_EQ(answer.message, "bad token");
  EXPECT_EQ(decode_grpc_web(trailers("grpc-status:0\r\n"), "grpc-status: 13\r\n").status, 0U);
}

TEST(GrpcWeb, RefusesCutFramesTrailingBytesAndCompressedMessages) {
  const std::string whole = grpc_web_frame("message");
  EXPECT_TRUE(refused([&] { decode_grpc_web(whole.substr(0, whole.size() - 1)); }));
  EXPECT_TRUE(refused([&] { decode_grpc_web(whole.substr(0, 3)); }));
  EXPECT_TRUE(refused([&] { decode_grpc_web(trailers("grpc-status: 0\r\n") + whole); }));
  std::string compressed = whole;
  compressed[0] = 1;
  EXPECT_TRUE(refused([&] { decode_grpc_web(compressed); }));
  EXPECT_TRUE(refused([&] { decode_grpc_web(trailers("grpc-status: zero\r\n")); }));
}

TEST(LogMessages, HelloGivesTheLogAndTheSession) {
  wal_log::HelloResponse hello;
  hello.set_log_id("0b7e46f2-6d19-4c8f-9a4b-2a1c1f7d5e33");
  hello.set_session_token("token");
  hello.set_current_replication_index(41);
  const auto decoded =
      decode_hello(decode_grpc_web(grpc_web_frame(hello.SerializeAsString()) + trailers("grpc-status: 0\r\n")));
  EXPECT_EQ(decoded.log_id, hello.log_id());
  EXPECT_EQ(decoded.session_token, "token");
  EXPECT_EQ(decoded.replication_index, 41U);
}

TEST(LogMessages, RefusesASessionTokenThatCannotBeAHeader) {
  wal_log::HelloResponse hello;
  hello.set_log_id("0b7e46f2-6d19-4c8f-9a4b-2a1c1f7d5e33");
  hello.set_session_token("token\r\nX-Injected: yes");
  EXPECT_TRUE(refused([&] {
    decode_hello(decode_grpc_web(grpc_web_frame(hello.SerializeAsString()) + trailers("grpc-status: 0\r\n")));
  }));
}

TEST(LogMetadata, APendingCommitIsSettledByTheWalsFrameCount) {
  const auto id = parse_log_id("00112233-4455-6677-8899-aabbccddeeff");
  ASSERT_TRUE(id);
  const LogMetadata pending{*id, 9, PendingCommit{40, 5}};
  EXPECT_EQ(decode_log_metadata(encode_log_metadata(pending)), pending);
  // The WAL reached the commit's count: frames 10 to 14 are in.
  EXPECT_EQ(pending.settled(40), (LogMetadata{*id, 14, std::nullopt}));
  EXPECT_EQ(pending.settled(41).committed_frame, 14U);
  // It did not: the commit never happened.
  EXPECT_EQ(pending.settled(39), (LogMetadata{*id, 9, std::nullopt}));
  // Nothing committed before: the log's first frame is 0.
  EXPECT_EQ((LogMetadata{*id, std::nullopt, PendingCommit{3, 2}}).settled(3).committed_frame, 1U);
  // libSQL's client leaves the padding zero: nothing pending.
  EXPECT_EQ(decode_log_metadata(encode_log_metadata({*id, 9, std::nullopt})).pending, std::nullopt);
}

TEST(LogMessages, TellsASnapshotOrAHandshakeNeededFromOtherFailures) {
  const auto need = [](const std::string& message) {
    return decode_log_frames(decode_grpc_web(trailers("grpc-status: 9\r\ngrpc-message: " + message + "\r\n")), false)
        .kind;
  };
  EXPECT_EQ(need("NEED_SNAPSHOT"), LogFrames::Kind::NeedSnapshot);
  EXPECT_EQ(need("NO_HELLO"), LogFrames::Kind::NeedHello);
  EXPECT_TRUE(refused([&] { need("NAMESPACE_DOESNT_EXIST"); }));
  EXPECT_TRUE(refused([] { decode_log_frames(decode_grpc_web(trailers("grpc-status: 16\r\n")), false); }));
  EXPECT_TRUE(refused([] { decode_log_frames(decode_grpc_web(grpc_web_frame("\xff\xff")), false); }));
}

TEST(LogMessages, ReadsABatchAndAStreamOfFrames) {
  wal_log::Frames batch;
  batch.add_frames()->set_data("a");
  batch.add_frames()->set_data("b");
  const auto ok = trailers("grpc-status: 0\r\n");
  EXPECT_EQ(decode_log_frames(decode_grpc_web(grpc_web_frame(batch.SerializeAsString()) + ok), false).frames,
            (std::vector<std::string>{"a", "b"}));
  wal_log::Frame one;
  one.set_data("c");
  const std::string streamed = grpc_web_frame(one.SerializeAsString());
  EXPECT_EQ(decode_log_frames(decode_grpc_web(streamed + streamed + ok), true).frames,
            (std::vector<std::string>{"c", "c"}));
  EXPECT_TRUE(decode_log_frames(decode_grpc_web(grpc_web_frame("") + ok), false).frames.empty());
}

TEST(LogFrames, BecomeWalFramesWithTheirPageAndCommitSize) {
  const std::string bytes = log_frame(7, 3, 5);
  const LogFrame frame = read_log_frame(bytes);
  EXPECT_EQ(frame.number, 7U);
  EXPECT_EQ(frame.page_number, 3U);
  EXPECT_EQ(frame.commit_size, 5U);
  std::string wal;
  append_wal_frame(wal, frame, frame.commit_size);
  const auto frames = split_frames(wal);
  ASSERT_EQ(frames.size(), 1U);
  EXPECT_EQ(frames[0].page_number, 3U);
  EXPECT_EQ(frames[0].commit_size, 5U);
  EXPECT_EQ(frames[0].bytes.substr(kFrameHeaderSize), std::string(kPageSize, 'x'));
  EXPECT_TRUE(refused([&] { read_log_frame(bytes.substr(1)); }));
}

TEST(LogFrames, ASnapshotIsOneTransactionOfEachPageAtItsNewest) {
  // Newest first, as sqld streams them; page 4 lies past the snapshot's size.
  const std::vector<std::string> snapshot = {log_frame(9, 2, 3, 'n'), log_frame(8, 1, 0, 'a'), log_frame(6, 2, 0, 'o'),
                                             log_frame(5, 3, 0, 'c'), log_frame(4, 4, 4, 'z')};
  std::uint64_t newest = 0;
  // The frames are views into the transaction: it must outlive them.
  const std::string transaction = snapshot_as_transaction(snapshot, newest);
  const auto frames = split_frames(transaction);
  EXPECT_EQ(newest, 9U);
  ASSERT_EQ(frames.size(), 3U);
  EXPECT_EQ(frames[0].page_number, 1U);
  EXPECT_EQ(frames[1].page_number, 2U);
  EXPECT_EQ(frames[1].bytes[kFrameHeaderSize], 'n');
  EXPECT_EQ(frames[2].page_number, 3U);
  EXPECT_FALSE(frames[0].is_commit() || frames[1].is_commit());
  EXPECT_EQ(frames[2].commit_size, 3U);
  EXPECT_TRUE(refused([&] { snapshot_as_transaction({log_frame(1, 1, 0)}, newest); }));
}

TEST(LogMetadata, IsLibsqlsThirtyTwoByteFile) {
  const auto id = parse_log_id("00112233-4455-6677-8899-aabbccddeeff");
  ASSERT_TRUE(id);
  const std::string bytes = encode_log_metadata({*id, 0x0102, std::nullopt});
  ASSERT_EQ(bytes.size(), 32U);
  // The UUID as a little-endian 128-bit integer: its last byte first.
  EXPECT_EQ(static_cast<unsigned char>(bytes[0]), 0xffU);
  EXPECT_EQ(static_cast<unsigned char>(bytes[15]), 0x00U);
  EXPECT_EQ(bytes.substr(16, 8), std::string("\x02\x01\0\0\0\0\0\0", 8));
  EXPECT_EQ(bytes.substr(24), std::string(8, '\0'));
  EXPECT_EQ(decode_log_metadata(bytes), (LogMetadata{*id, 0x0102, std::nullopt}));
  // Nothing committed yet: all ones.
  EXPECT_EQ(encode_log_metadata({*id, std::nullopt, std::nullopt}).substr(16, 8), std::string(8, '\xff'));
  EXPECT_EQ(decode_log_metadata(encode_log_metadata({*id, std::nullopt, std::nullopt})).committed_frame, std::nullopt);
  EXPECT_TRUE(refused([&] { decode_log_metadata(bytes.substr(1)); }));
  EXPECT_FALSE(parse_log_id("00112233-4455-6677-8899-aabbccddeef"));
  EXPECT_FALSE(parse_log_id("00112233x4455-6677-8899-aabbccddeeff"));
  EXPECT_FALSE(parse_log_id("0011223g-4455-6677-8899-aabbccddeeff"));
}

}  // namespace
}  // namespace aiolibsql::replica
