#include "async_connection.hpp"

#include <utility>

namespace aiolibsql {

EngineCursor::~EngineCursor() {
  if (auto owner = owner_.lock()) owner->release(id_);
}

std::shared_ptr<Cancellable> EngineCursor::fetcher() const { return owner_.lock(); }

void EngineCursor::fetch(std::shared_ptr<OpenCursor> self, std::shared_ptr<CompletionSink> sink, std::uintptr_t tag) {
  auto owner = owner_.lock();
  if (!owner) {
    auto operation = std::make_shared<Operation>(nullptr, std::move(sink), tag);
    Operation::complete(std::move(operation),
                        Error{ErrorKind::Programming, -1, "Cannot operate on a closed database."});
    return;
  }
  owner->fetch(std::static_pointer_cast<EngineCursor>(std::move(self)), std::move(sink), tag);
}

AsyncConnection::AsyncConnection(OpenOptions options)
    : options_(std::move(options)), executor_([this] { connection_.interrupt(); }) {
  connection_.watch_cancellation(&executor_.cancellation());
}

AsyncConnection::~AsyncConnection() {
  if (executor_.inherited()) connection_.abandon();
}

std::shared_ptr<Operation> AsyncConnection::submit(Operation::Work work, Sink sink, std::uintptr_t tag) {
  auto operation = std::make_shared<Operation>(std::move(work), std::move(sink), tag);
  executor_.submit(operation);
  return operation;
}

bool AsyncConnection::try_open_inline() {
  if (!options_.encryption_key.empty()) return false;
  auto engine = executor_.try_hold_idle_engine();
  if (!engine.owns_lock()) return false;
  const OpenOptions options = std::move(options_);
  connection_.open(options);
  executor_.count_inline_completion();
  return true;
}

std::shared_ptr<Operation> AsyncConnection::open(Sink sink, std::uintptr_t tag) {
  return submit(
      [this, options = std::move(options_)]() -> Outcome {
        connection_.open(options);
        return {};
      },
      std::move(sink), tag);
}

QueryResult AsyncConnection::with_open_cursor(QueryResult result, std::shared_ptr<EngineCursor> cursor) {
  if (result.cursor_id == 0) return result;
  result.open_cursor = cursor ? std::move(cursor) : std::make_shared<EngineCursor>(weak_from_this(), result.cursor_id);
  return result;
}

std::shared_ptr<Operation> AsyncConnection::execute(std::string sql, Params params, Sink sink, std::uintptr_t tag) {
  return submit(
      [this, sql = std::move(sql), params = std::move(params)]() mutable -> Outcome {
        return with_open_cursor(connection_.execute(sql, params, kFirstChunk), nullptr);
      },
      std::move(sink), tag);
}

QueryResult AsyncConnection::execute_nested(std::string_view sql, Params& params) {
  return connection_.execute(sql, params, kWholeResult);
}

std::optional<QueryResult> AsyncConnection::try_execute_inline(std::string_view sql, Params& params) {
  if (has_user_functions()) return std::nullopt;
  auto engine = executor_.try_hold_idle_engine();
  if (!engine.owns_lock()) return std::nullopt;
  auto result = connection_.execute_read_within(sql, params, kFirstChunk, kInlineBudget);
  if (result) {
    executor_.count_inline_completion();
    result = with_open_cursor(std::move(*result), nullptr);
  }
  return result;
}

std::shared_ptr<Operation> AsyncConnection::fetch(std::shared_ptr<EngineCursor> cursor, Sink sink, std::uintptr_t tag) {
  return submit(
      [this, cursor = std::move(cursor)]() -> Outcome {
        cursor->check_fetch();
        return with_open_cursor(connection_.fetch(cursor->id(), kNextChunk), cursor);
      },
      std::move(sink), tag);
}

void AsyncConnection::release(std::uint64_t cursor_id) {
  submit(
      [this, cursor_id]() -> Outcome {
        connection_.release(cursor_id);
        return {};
      },
      nullptr, 0);
}

std::shared_ptr<Operation> AsyncConnection::execute_many(std::string sql, std::vector<Params> batch, Sink sink,
                                                         std::uintptr_t tag) {
  return submit([this, sql = std::move(sql),
                 batch = std::move(batch)]() -> Outcome { return connection_.execute_many(sql, batch); },
                std::move(sink), tag);
}

std::shared_ptr<Operation> AsyncConnection::execute_script(std::string script, Sink sink, std::uintptr_t tag) {
  return submit(
      [this, script = std::move(script)]() -> Outcome {
        connection_.execute_script(script);
        return {};
      },
      std::move(sink), tag);
}

std::shared_ptr<Operation> AsyncConnection::commit(Sink sink, std::uintptr_t tag) {
  return submit(
      [this]() -> Outcome {
        connection_.commit();
        return {};
      },
      std::move(sink), tag);
}

std::shared_ptr<Operation> AsyncConnection::rollback(Sink sink, std::uintptr_t tag) {
  return submit(
      [this]() -> Outcome {
        connection_.rollback();
        return {};
      },
      std::move(sink), tag);
}

std::shared_ptr<Operation> AsyncConnection::rekey(Secret key, Sink sink, std::uintptr_t tag) {
  return submit(
      [this, key = std::move(key)]() -> Outcome {
        connection_.rekey(key);
        return {};
      },
      std::move(sink), tag);
}

std::shared_ptr<Operation> AsyncConnection::set_transaction_control(TransactionControl control, Sink sink,
                                                                    std::uintptr_t tag) {
  return submit(
      [this, control]() -> Outcome {
        connection_.set_transaction_control(control);
        return {};
      },
      std::move(sink), tag);
}

std::shared_ptr<Operation> AsyncConnection::backup_to(std::shared_ptr<AsyncConnection> target, std::string schema,
                                                      int pages_per_step, Sink sink, std::uintptr_t tag) {
  return submit(
      [this, target = std::move(target), schema = std::move(schema), pages_per_step]() mutable -> Outcome {
        // Let go of the target here, on the worker: the last hold on a
        // connection joins its worker, which the loop's thread must never
        // do while holding the GIL the worker may be waiting for.
        const auto held = std::move(target);
        connection_.backup_to(held->connection_, held->executor_.engine_mutex(), schema, pages_per_step);
        return {};
      },
      std::move(sink), tag);
}

std::shared_ptr<Operation> AsyncConnection::create_function(std::string name, int arg_count, bool deterministic,
                                                            std::shared_ptr<ScalarFunction> function, Sink sink,
                                                            std::uintptr_t tag) {
  has_user_functions_.store(true, std::memory_order_relaxed);
  return submit(
      [this, name = std::move(name), arg_count, deterministic, function = std::move(function)]() -> Outcome {
        connection_.create_function(name, arg_count, deterministic, function);
        return {};
      },
      std::move(sink), tag);
}

std::shared_ptr<Operation> AsyncConnection::run(ConnectionWork work, Sink sink, std::uintptr_t tag, bool groupable) {
  auto operation = make_operation(std::move(work), std::move(sink), tag);
  operation->set_groupable(groupable);
  executor_.submit(operation);
  return operation;
}

void AsyncConnection::set_group_runner(ConnectionGroupRunner runner, std::size_t largest_group,
                                       std::chrono::microseconds gather) {
  executor_.set_group_runner([this, runner = std::move(runner)](
                                 const std::vector<std::shared_ptr<Operation>>& group) { runner(connection_, group); },
                             largest_group, gather);
}

bool AsyncConnection::try_close_inline() {
  {
    auto engine = executor_.try_hold_idle_engine();
    if (!engine.owns_lock() || !connection_.closes_quickly()) return false;
    connection_.close();
    executor_.count_inline_completion();
  }
  executor_.close_idle();
  return true;
}

std::shared_ptr<Operation> AsyncConnection::close(Sink sink, std::uintptr_t tag) {
  auto operation = std::make_shared<Operation>(
      [this]() -> Outcome {
        connection_.close();
        return {};
      },
      std::move(sink), tag);
  executor_.close(operation);
  return operation;
}

}  // namespace aiolibsql
