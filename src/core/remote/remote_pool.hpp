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

#include "pool_backend.hpp"
#include "remote_connection.hpp"

namespace aiolibsql::remote {

class RemotePool final : public std::enable_shared_from_this<RemotePool>, public PoolBackend {
 public:
  // `options.transactions` is ignored: pooled streams run in autocommit,
  // and transactions are explicit (pin()).
  RemotePool(RemoteOptions options, std::size_t size);
  RemotePool(const RemotePool&) = delete;
  RemotePool& operator=(const RemotePool&) = delete;

  // Checks the server and the token on every stream; fails with the first failure.
  void open(Sink sink, std::uintptr_t tag) override;
  // Judged from the text: only reads are SELECT, WITH, EXPLAIN and PRAGMA queries.
  Route route(std::string_view sql) override;
  // On the least loaded stream. Transaction control is refused: use
  // pin(PinKind::Transaction).
  void execute(const Route& route, Params params, Sink sink, std::uintptr_t tag) override;
  void execute(std::string_view sql, Params params, Sink sink, std::uintptr_t tag) {
    execute(route(sql), std::move(params), std::move(sink), tag);
  }
  // The server answers every statement.
  std::optional<QueryResult> try_execute_inline(const Route&, Params&) override { return std::nullopt; }
  // Atomically, in one round trip.
  void execute_many(std::string sql, std::vector<Params> batch, Sink sink, std::uintptr_t tag) override;
  void execute_batch(std::vector<std::pair<std::string, Params>> statements, Sink sink, std::uintptr_t tag) override;

  // The pin is the stream's index. A transaction begins with BEGIN
  // IMMEDIATE, a snapshot with BEGIN and a read that starts it.
  std::int64_t pin(PinKind kind, Sink sink, std::uintptr_t tag) override;
  void pinned_execute(std::int64_t pin, PinKind kind, std::string sql, Params params, Sink sink,
                      std::uintptr_t tag) override;
  void pinned_execute_many(std::int64_t pin, std::string sql, std::vector<Params> batch, Sink sink,
                           std::uintptr_t tag) override;
  // A snapshot always rolls back.
  void unpin(std::int64_t pin, PinKind kind, bool commit, Sink sink, std::uintptr_t tag) override;

  // Fails queued work, waits for requests in flight, closes every stream.
  void close(Sink sink, std::uintptr_t tag) override;
  bool cancel(std::uintptr_t tag) override;
  bool is_closed() const override;

  std::size_t size() const noexcept override { return streams_.size(); }
  // Streams a transaction or snapshot may pin: all but one.
  std::size_t reader_count() const noexcept override { return streams_.size() - 1; }
  std::vector<PoolMemberStats> stats() const override;

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
