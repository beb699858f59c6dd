// What a connection drives, wherever its database lives: the local engine
// (AsyncConnection) or a stream to a remote server (remote::RemoteConnection).
// Every operation is queued in submission order and completes into a sink;
// a result with more rows hands out an OpenCursor for the rest. What only
// some backends can do is asked for by name (Capability), so a caller can say
// why it is refused instead of guessing from the type.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cancellable.hpp"
#include "executor.hpp"
#include "result.hpp"
#include "transaction_rules.hpp"
#include "value.hpp"

namespace aiolibsql {

// What a backend may lack. Each names the member of the local engine it stands for.
enum class Capability {
  // AsyncConnection::rekey: change the database's encryption key.
  Rekey,
  // AsyncConnection::backup_to: copy the database page by page.
  Backup,
  // AsyncConnection::create_function: SQL functions that call back into the caller.
  UserFunctions,
  // AsyncConnection::interrupt: stop the statement that is running.
  Interrupt,
  // AsyncConnection::total_changes: rows changed since opening.
  TotalChanges,
};

class ConnectionBackend : public Cancellable {
 public:
  using Sink = std::shared_ptr<CompletionSink>;

  virtual ~ConnectionBackend() = default;

  // Opens with the options the backend was made with.
  virtual std::shared_ptr<Operation> open(Sink sink, std::uintptr_t tag) = 0;
  virtual std::shared_ptr<Operation> execute(std::string sql, Params params, Sink sink, std::uintptr_t tag) = 0;
  virtual std::shared_ptr<Operation> execute_many(std::string sql, std::vector<Params> batch, Sink sink,
                                                  std::uintptr_t tag) = 0;
  virtual std::shared_ptr<Operation> execute_script(std::string script, Sink sink, std::uintptr_t tag) = 0;
  virtual std::shared_ptr<Operation> commit(Sink sink, std::uintptr_t tag) = 0;
  virtual std::shared_ptr<Operation> rollback(Sink sink, std::uintptr_t tag) = 0;
  virtual std::shared_ptr<Operation> set_transaction_control(TransactionControl control, Sink sink,
                                                             std::uintptr_t tag) = 0;
  // Fails queued operations, waits for the running one, then closes.
  virtual std::shared_ptr<Operation> close(Sink sink, std::uintptr_t tag) = 0;

  // The short-read fast path: runs `sql` on the calling thread within a small
  // budget when the backend can answer it there, or returns nothing. Throws
  // DbError for errors it met. `params` is moved from only when it succeeds
  // with rows left open.
  virtual std::optional<QueryResult> try_execute_inline(std::string_view sql, Params& params) = 0;
  // Whether an operation submitted now may finish within moments on another
  // thread without needing anything of the caller's: then a caller on the
  // event loop may wait for it briefly instead of suspending. `statement` is
  // the SQL of the execute() to submit; empty for any other operation.
  virtual bool can_hand_off(std::string_view statement) const = 0;

  // A cancelled statement that may still be running counts as in a
  // transaction until it ends: it may yet have opened one.
  virtual bool in_transaction() const = 0;
  virtual bool is_closed() const = 0;
  // Created before a fork() in a parent of this process.
  virtual bool is_inherited() const noexcept = 0;
  // Why `capability` is missing ("on a remote database: …"), or nothing when
  // this backend has it.
  virtual std::optional<std::string> lacks(Capability capability) const = 0;
};

}  // namespace aiolibsql
