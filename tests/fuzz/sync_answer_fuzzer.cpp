// Feeds arbitrary bytes to what an embedded replica decodes from its primary
// and its own metadata files: the first byte picks the decoder (HTTP sync:
// metadata file, pulled frames, /info answer, end of frames, push answer;
// replication log: metadata file, gRPC-web answers to Hello, to
// BatchLogEntries and to Snapshot, a snapshot's frames), the rest is the
// input. The only acceptable outcomes are a decoded value or DbError.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "error.hpp"
#include "grpc_web.hpp"
#include "log_client.hpp"
#include "log_frames.hpp"
#include "log_metadata.hpp"
#include "sync_client.hpp"
#include "sync_metadata.hpp"
#include "wal_frames.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string input(reinterpret_cast<const char*>(data + 1), size - 1);
  namespace replica = aiolibsql::replica;
  try {
    switch (data[0] % 10) {
      case 0:
        aiolibsql::replica::decode_sync_metadata(input);
        break;
      case 1:
        aiolibsql::replica::split_frames(input);
        break;
      case 2:
        aiolibsql::replica::decode_info_answer(input);
        break;
      case 3:
        aiolibsql::replica::decode_end_of_frames(input);
        break;
      case 4:
        aiolibsql::replica::decode_push_answer(input);
        break;
      case 5:
        replica::decode_log_metadata(input);
        break;
      case 6:
        replica::decode_hello(replica::decode_grpc_web(input));
        break;
      case 7:
        replica::decode_log_frames(replica::decode_grpc_web(input), false);
        break;
      case 8:
        replica::decode_log_frames(replica::decode_grpc_web(input), true);
        break;
      default: {
        // Frames of a whole frame's size each, as a snapshot would carry.
        std::vector<std::string> frames;
        for (std::size_t at = 0; at + replica::kFrameSize <= input.size(); at += replica::kFrameSize) {
          frames.push_back(input.substr(at, replica::kFrameSize));
        }
        std::uint64_t newest = 0;
        replica::split_frames(replica::snapshot_as_transaction(frames, newest));
        break;
      }
    }
  } catch (const aiolibsql::DbError&) {
    // Refusing what is not the protocol is the decoders' job.
  }
  return 0;
}
