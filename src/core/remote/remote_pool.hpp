// A pool of streams to one remote database. A statement outside a
// transaction needs no server state, so any stream may carry it: each goes to
// the least loaded stream, and writes are serialised only by the server.
// Transactions and snapshots pin a stream until they end; one stream is never
// pinned, so statements outside them always have somewhere to go.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "remote_connection.hpp"

namespace aiolibsql::remote {

// How a pinned stream begins.
enum class PinKind {
  // BEGIN IMMEDIATE: the server's write lock from the start, as a local pool's writer.
  Transaction,
  // BEGIN and a read that starts the read transaction: consistent reads from now on.
  Snapshot,
};

struct RemoteStreamStats {
  bool pinned = false;
  std::size_t queued = 0;
  std::uint64_t completed = 0;
};

class RemotePool final : public std::enable_shared_from_this<RemotePool>, public Cancellable {
 public:
  using Sink = RemoteConnection::Sink;

  // `options.transactions` is ignored: pooled streams run in autocommit,
  // and transactions are explicit (pin()).
  RemotePool(RemoteOptions options, std::size_t size);
  RemotePool(const RemotePool&) = delete;
  RemotePool& operator=(const RemotePool&) = delete;

  // Checks the server and the token on every stream; fails with the first failure.
  void open(Sink sink, std::uintptr_t tag);
  // One statement on the least loaded stream. Transaction control is refused:
  // use pin(PinKind::Transaction).
  void execute(std::string sql, Params params, Sink sink, std::uintptr_t tag);
  // Statements that all take effect or none does, in one round trip.
  void execute_atomically(std::vector<std::pair<std::string, Params>> statements, Sink sink, std::uintptr_t tag);
  // One DML statement per parameter set, atomically, in one round trip.
  void execute_many(std::string sql, std::vector<Params> batch, Sink sink, std::uintptr_t tag);

  // Pins a free stream and begins on it; returns the stream, or -1 (and fails
  // the operation with SQLITE_BUSY) when every stream that may be pinned is.
  int pin(PinKind kind, Sink sink, std::uintptr_t tag);
  void pinned_execute(int stream, PinKind kind, std::string sql, Params params, Sink sink, std::uintptr_t tag);
  void pinned_execute_many(int stream, std::string sql, std::vector<Params> batch, Sink sink, std::uintptr_t tag);
  // Commits (or rolls back) and frees the stream; a snapshot always rolls back.
  void unpin(int stream, bool commit, Sink sink, std::uintptr_t tag);

  // Fails queued work, waits for requests in flight, closes every stream.
  void close(Sink sink, std::uintptr_t tag);
  bool cancel(std::uintptr_t tag) override;
  bool is_closed() const;

  // Whether a statement may write, judged from its text: anything but a
  // query (SELECT, WITH, EXPLAIN, a PRAGMA read) or transaction control.
  static bool may_write(std::string_view sql);

  std::size_t size() const noexcept { return streams_.size(); }
  // Streams a transaction or snapshot may pin: all but one.
  std::size_t pinnable() const noexcept { return streams_.size() - 1; }
  std::vector<RemoteStreamStats> stats() const;

 private:
  RemoteConnection& least_loaded();
  // Completes `done` once every stream has completed its part, with the first failure if any.
  template <typename Start>
  void on_every_stream(Sink done, std::uintptr_t tag, Start start);

  std::vector<std::shared_ptr<RemoteConnection>> streams_;
  mutable std::mutex mutex_;
  std::vector<bool> pinned_;
};

}  // namespace aiolibsql::remote
