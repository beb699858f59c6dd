// Which sync protocol a replica speaks with its primary, chosen as libSQL's
// own client chooses: a primary that answers GET /info speaks the HTTP sync
// protocol (v2, Turso); one that does not, sqld's replication log (v1, a
// self-hosted sqld). An existing replica keeps the protocol its metadata
// file was written for, without asking the network.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "http_transport.hpp"
#include "remote_url.hpp"
#include "replica_sync.hpp"

namespace aiolibsql::replica {

enum class SyncProtocol : std::uint8_t { Auto, ReplicationLog, HttpSync };

// "auto", "v1" or "v2"; nothing for anything else.
std::optional<SyncProtocol> parse_sync_protocol(std::string_view name);

struct ReplicaSyncOptions {
  std::string database;
  remote::RemoteEndpoint primary;
  remote::HttpOptions http;
  SyncProtocol protocol = SyncProtocol::Auto;
  bool offline = false;
  // How long a pull waits for another connection of the replica that pulls.
  std::chrono::milliseconds lock_timeout{5000};
};

// A connection's timeout (seconds) as a pull's wait for the WAL's write lock.
inline std::chrono::milliseconds lock_timeout(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000.0));
}

// With SyncProtocol::Auto, the choice is made by bootstrap(), which must run first.
std::shared_ptr<ReplicaSync> make_replica_sync(ReplicaSyncOptions options);

}  // namespace aiolibsql::replica
