// The client side of libSQL's HTTP sync protocol ("v2", what Turso serves
// for sync_url): the primary's generation, its export, frames pulled and
// pushed. Each call blocks as PrimaryHttp's do.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "primary_http.hpp"

namespace aiolibsql::replica {

// Frames per pull and per push, as libSQL's own client asks for.
inline constexpr std::uint32_t kFramesPerRequest = 128;

struct Pulled {
  // Whole frames, or empty once the generation has no frames from `start` on.
  std::string frames;
  // With no frames: the primary's current generation.
  std::uint32_t current_generation = 0;
};

struct Pushed {
  bool conflict = false;
  std::uint32_t generation = 0;
  // The last frame the primary holds of this push (see SyncClient::push).
  std::uint32_t max_frame = 0;
  std::string baton;
};

// The primary's JSON answers, decoded; DbError (OperationalError) for anything
// that is not the protocol's.
std::uint32_t decode_info_answer(const std::string& body);
// The answer to a pull past the last frame: the current generation, or
// nothing when the body does not say it.
std::optional<std::uint32_t> decode_end_of_frames(const std::string& body);
Pushed decode_push_answer(const std::string& body);

class SyncClient {
 public:
  SyncClient(remote::RemoteEndpoint endpoint, remote::HttpOptions options);

  void watch_cancellation(const std::atomic<bool>* cancelled) noexcept { http_.watch_cancellation(cancelled); }

  std::uint32_t current_generation();
  // Writes the database file as `generation` began to `path`, as it
  // arrives, replacing `path` only once all of it is on disk.
  void export_database(std::uint32_t generation, const std::string& path);
  // Frames `start`..`end` - 1 of `generation` (the primary may send fewer).
  Pulled pull(std::uint32_t generation, std::uint32_t start, std::uint32_t end);
  // Sends frames `start`..`end` - 1; `baton` continues the previous push of
  // the same sync, whose transaction may not have ended. Never sent twice.
  Pushed push(std::uint32_t generation, std::uint32_t start, std::uint32_t end, const std::string& baton,
              std::string frames);

 private:
  PrimaryHttp http_;
};

}  // namespace aiolibsql::replica
