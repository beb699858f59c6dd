// What a connection pool drives, wherever its database lives: a local file's
// writer and readers (Pool) or streams to a remote server
// (remote::RemotePool). A statement is routed by what it does, looked up once
// and handed back as a Route; transactions and snapshots pin one member of
// the pool until they end.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cancellable.hpp"
#include "executor.hpp"
#include "result.hpp"
#include "value.hpp"

namespace aiolibsql {

// What a statement does, as far as where it may run is concerned.
struct Route {
  bool readonly = false;
  bool groupable = false;
  bool transaction_control = false;
  // Changes the settings of the one connection that would run it (a
  // pragma assignment, ATTACH, DETACH) rather than the database.
  bool changes_connection = false;
  // The text itself, shared by every operation that runs it.
  std::shared_ptr<const std::string> sql;

  // A read any reader may run on its own.
  bool is_plain_read() const noexcept { return readonly && !transaction_control && !changes_connection; }
  // A write to the database, which waits behind an open pool transaction.
  bool writes() const noexcept { return !readonly && !transaction_control && !changes_connection; }
};

// What a pinned member of the pool holds until it is unpinned.
enum class PinKind {
  // BEGIN IMMEDIATE: the write lock from the start; other writes wait.
  Transaction,
  // A read transaction: consistent reads from its start on.
  Snapshot,
};

struct PoolMemberStats {
  // "writer" or "reader" locally, "stream" or "pinned stream" remotely.
  std::string role;
  std::size_t queued = 0;
  std::uint64_t completed = 0;
  // Autocommit writes committed together (see Pool's group commit).
  std::uint64_t groups = 0;
  std::uint64_t grouped_operations = 0;
  std::size_t largest_group = 0;
};

class PoolBackend : public Cancellable {
 public:
  using Sink = std::shared_ptr<CompletionSink>;

  virtual ~PoolBackend() = default;

  virtual void open(Sink sink, std::uintptr_t tag) = 0;
  virtual Route route(std::string_view sql) = 0;
  // Runs one statement where its route says.
  virtual void execute(const Route& route, Params params, Sink sink, std::uintptr_t tag) = 0;
  // The short-read fast path (see ConnectionBackend::try_execute_inline).
  virtual std::optional<QueryResult> try_execute_inline(const Route& route, Params& params) = 0;
  // One DML statement per parameter set, all or nothing.
  virtual void execute_many(std::string sql, std::vector<Params> batch, Sink sink, std::uintptr_t tag) = 0;
  // Several statements, all or nothing.
  virtual void execute_batch(std::vector<std::pair<std::string, Params>> statements, Sink sink, std::uintptr_t tag) = 0;

  // Pins a member of the pool and begins `kind` on it. Returns the pin, or
  // -1 when no member may be pinned now (the operation then fails with
  // SQLITE_BUSY). A pin that is not -1 must be unpinned, even when its
  // beginning failed.
  virtual std::int64_t pin(PinKind kind, Sink sink, std::uintptr_t tag) = 0;
  virtual void pinned_execute(std::int64_t pin, PinKind kind, std::string sql, Params params, Sink sink,
                              std::uintptr_t tag) = 0;
  // Transactions only.
  virtual void pinned_execute_many(std::int64_t pin, std::string sql, std::vector<Params> batch, Sink sink,
                                   std::uintptr_t tag) = 0;
  // Commits a transaction when `commit`, else rolls back; frees the member.
  virtual void unpin(std::int64_t pin, PinKind kind, bool commit, Sink sink, std::uintptr_t tag) = 0;

  // Fails queued work, waits for what is running, closes every member.
  virtual void close(Sink sink, std::uintptr_t tag) = 0;
  virtual bool is_closed() const = 0;
  virtual std::size_t size() const noexcept = 0;
  // Members a transaction or snapshot may pin.
  virtual std::size_t reader_count() const noexcept = 0;
  virtual std::vector<PoolMemberStats> stats() const = 0;
};

}  // namespace aiolibsql
