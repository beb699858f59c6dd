// One writer and N readers on one WAL file. Statements are routed by what
// they do (sqlite3_stmt_readonly), concurrent autocommit writes are committed
// together (group_commit.hpp), explicit transactions hold the writer through
// its gate (writer_gate.hpp), and read snapshots pin a reader.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "async_connection.hpp"
#include "pool/lock_deadline.hpp"
#include "pool/router.hpp"
#include "pool/writer_gate.hpp"
#include "submission_batch.hpp"

struct sqlite3;

namespace aiolibsql {

struct PoolOptions {
  std::string database;
  // Reads `database` as a "file:" URI; otherwise such a name is a plain path, as for a connection.
  bool uri = false;
  // Connections in all: one writer and size - 1 readers.
  std::size_t size = 10;
  double timeout_seconds = 5.0;
  // "PRAGMA name = value" statements run on every connection after opening.
  std::vector<std::string> setup_statements;
  // Most autocommit writes committed in one transaction; 1 turns grouping off.
  std::size_t largest_group = 256;
  // How long a started group waits for more writes; zero groups only what
  // is already queued (which is what load brings about by itself).
  std::chrono::microseconds group_gather{0};
  std::size_t cached_statements = 128;
  // Every connection of the pool opens the file with this key and cipher.
  Secret encryption_key;
  std::string cipher = "aes256cbc";
  // For pools whose file is more than a database (an embedded replica): run
  // on the writer's thread before it opens the file, and on each connection
  // after its setup statements.
  std::function<void()> before_open;
  std::function<void(Connection&)> after_open;
  // Whether close() checkpoints the WAL into the file (a replica's must stay).
  bool checkpoint_on_close = true;
};

class Pool final : public std::enable_shared_from_this<Pool>, public PoolBackend, public BatchTarget {
 public:
  explicit Pool(PoolOptions options);
  ~Pool() override;
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Opens the writer (which sets up WAL), then the readers.
  void open(Sink sink, std::uintptr_t tag) override;
  // As the engine says (see StatementRouter).
  Route route(std::string_view sql) override { return router_.route(sql); }
  // A reader when read-only, else the writer.
  void execute(const Route& route, Params params, Sink sink, std::uintptr_t tag) override;
  void execute(std::string_view sql, Params params, Sink sink, std::uintptr_t tag) {
    execute(route(sql), std::move(params), std::move(sink), tag);
  }
  // On an idle reader (see AsyncConnection::try_execute_inline).
  std::optional<QueryResult> try_execute_inline(const Route& route, Params& params) override;
  std::optional<QueryResult> try_execute_inline(std::string_view sql, Params& params) {
    return try_execute_inline(route(sql), params);
  }
  // In one transaction on the writer.
  void execute_many(std::string sql, std::vector<Params> batch, Sink sink, std::uintptr_t tag) override;
  void execute_batch(std::vector<std::pair<std::string, Params>> statements, Sink sink, std::uintptr_t tag) override;

  // A transaction pins the writer (its pin is the transaction's id), a
  // snapshot one reader (its pin is the reader's index).
  std::int64_t pin(PinKind kind, Sink sink, std::uintptr_t tag) override;
  void pinned_execute(std::int64_t pin, PinKind kind, std::string sql, Params params, Sink sink,
                      std::uintptr_t tag) override;
  void pinned_execute_many(std::int64_t pin, std::string sql, std::vector<Params> batch, Sink sink,
                           std::uintptr_t tag) override;
  void unpin(std::int64_t pin, PinKind kind, bool commit, Sink sink, std::uintptr_t tag) override;

  // Starts an explicit transaction on the writer; other writes wait until it
  // ends. Returns its id; BEGIN's outcome completes into `sink`.
  std::uint64_t begin_transaction(Sink sink, std::uintptr_t tag);
  void transaction_execute(std::uint64_t transaction, std::string sql, Params params, Sink sink, std::uintptr_t tag);
  void transaction_execute_many(std::uint64_t transaction, std::string sql, std::vector<Params> batch, Sink sink,
                                std::uintptr_t tag);
  void end_transaction(std::uint64_t transaction, bool commit, Sink sink, std::uintptr_t tag);

  // Pins a reader to one read transaction; returns which reader, or -1
  // (and fails the operation) when every reader holds a snapshot already.
  int begin_snapshot(Sink sink, std::uintptr_t tag);
  void snapshot_execute(int reader, std::string sql, Params params, Sink sink, std::uintptr_t tag);
  void end_snapshot(int reader, Sink sink, std::uintptr_t tag);
  // Work on the writer, through its gate, in order with the writes.
  void run_on_writer(AsyncConnection::ConnectionWork work, Sink sink, std::uintptr_t tag);

  // Also fails writes waiting at the gate, and checkpoints the WAL.
  void close(Sink sink, std::uintptr_t tag) override;
  // For process exit: see Connection::interrupt_permanently.
  void interrupt_permanently() noexcept;
  // Interrupts what the writer runs now, if anything (see AsyncConnection::interrupt).
  void interrupt_writer() { writer_->interrupt(); }
  // Set while the writer's running work is being interrupted or cancelled.
  const std::atomic<bool>& writer_cancellation() const noexcept { return writer_->executor().cancellation(); }
  bool cancel(std::uintptr_t tag) override;
  // Autocommit writes a SubmissionBatch held: through the gate, in order.
  void submit_held(std::span<std::shared_ptr<Operation>> operations) override;
  bool is_closed() const override;

  std::size_t size() const noexcept override { return readers_.size() + 1; }
  std::size_t reader_count() const noexcept override { return readers_.size(); }
  std::vector<PoolMemberStats> stats() const override;

 private:
  // An idle reader if there is one, else the least loaded; null when every
  // reader holds a snapshot. `idle` says which.
  AsyncConnection* pick_reader(bool& idle);
  // With readers_mutex_ held: the least loaded reader that is neither pinned
  // nor holding an unfinished result (stopping at an idle one), or -1.
  int choose_reader(std::size_t& load) const;
  // Through the gate; writes this thread holds back (SubmissionBatch) go first.
  void submit_to_writer(std::span<std::shared_ptr<Operation>> operations, std::uint64_t transaction, bool begins);
  void submit_to_writer(std::shared_ptr<Operation> operation, std::uint64_t transaction, bool begins) {
    submit_to_writer(std::span(&operation, 1), transaction, begins);
  }
  // Now plus the pool's timeout: a write waits for locks (and at the gate)
  // that long in all, however long it queued or however it was grouped.
  std::chrono::steady_clock::time_point lock_deadline_from_now() const;
  template <typename Work>
  std::shared_ptr<Operation> writer_operation(Work work, Sink sink, std::uintptr_t tag) {
    const auto deadline = lock_deadline_from_now();
    auto operation = writer_->make_operation(
        [work = std::move(work), deadline](Connection& connection) mutable -> Outcome {
          const LockDeadline bounded(connection, deadline);
          return work(connection);
        },
        std::move(sink), tag);
    operation->set_lock_deadline(deadline);
    return operation;
  }

  PoolOptions options_;
  std::shared_ptr<AsyncConnection> writer_;
  std::vector<std::shared_ptr<AsyncConnection>> readers_;

  StatementRouter router_;
  WriterGate gate_;

  // Guards which readers a snapshot pins.
  mutable std::mutex readers_mutex_;
  std::vector<bool> pinned_;
};

}  // namespace aiolibsql
