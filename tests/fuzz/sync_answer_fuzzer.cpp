// Feeds arbitrary bytes to what an embedded replica decodes from its primary
// and its own metadata file: the first byte picks the decoder (metadata file,
// pulled frames, /info answer, end of frames, push answer), the rest is the
// input. The only acceptable outcomes are a decoded value or DbError.
#include <cstddef>
#include <cstdint>
#include <string>

#include "error.hpp"
#include "sync_client.hpp"
#include "sync_metadata.hpp"
#include "wal_frames.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string input(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    switch (data[0] % 5) {
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
      default:
        aiolibsql::replica::decode_push_answer(input);
        break;
    }
  } catch (const aiolibsql::DbError&) {
    // Refusing what is not the protocol is the decoders' job.
  }
  return 0;
}
