// Helpers shared by the core's tests: opening connections, reading buffered
// rows back as Values, catching DbErrors, temporary directories, and
// synchronisation primitives for the threaded tests.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "connection.hpp"
#include "error.hpp"
#include "executor.hpp"
#include "result.hpp"
#include "value.hpp"

namespace aiolibsql {

// Readable failure output for the value types gtest cannot print itself.
inline void PrintTo(const Null&, std::ostream* out) { *out << "NULL"; }
inline void PrintTo(const Blob& blob, std::ostream* out) {
  *out << "Blob[" << blob.bytes.size() << "]{";
  for (unsigned char byte : blob.bytes) *out << ' ' << static_cast<int>(byte);
  *out << " }";
}

inline const char* kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Interface:
      return "Interface";
    case ErrorKind::Database:
      return "Database";
    case ErrorKind::Data:
      return "Data";
    case ErrorKind::Operational:
      return "Operational";
    case ErrorKind::Integrity:
      return "Integrity";
    case ErrorKind::Internal:
      return "Internal";
    case ErrorKind::Programming:
      return "Programming";
    case ErrorKind::NotSupported:
      return "NotSupported";
    case ErrorKind::Memory:
      return "Memory";
    case ErrorKind::Cancelled:
      return "Cancelled";
  }
  return "?";
}
inline void PrintTo(ErrorKind kind, std::ostream* out) { *out << kind_name(kind); }
inline void PrintTo(const Error& error, std::ostream* out) {
  *out << "Error{" << kind_name(error.kind) << ", " << error.sqlite_code << ", \"" << error.message << "\"}";
}

namespace test {

using namespace std::chrono_literals;

// Every row in one trip, for tests that do not exercise chunking.
inline constexpr FetchLimits kEverything{std::numeric_limits<std::size_t>::max(),
                                         std::numeric_limits<std::size_t>::max()};

// Bound for waits that only time out when the code under test is broken;
// generous so that a slow machine never fails a correct build.
inline constexpr auto kHangBound = 20s;

inline OpenOptions memory_options() {
  OpenOptions options;
  options.database = ":memory:";
  return options;
}

// A file in autocommit: every write commits at once, as with isolation_level=None.
inline OpenOptions autocommit_file_options(const std::string& path) {
  OpenOptions options;
  options.database = path;
  options.isolation_level = std::nullopt;
  return options;
}

inline std::unique_ptr<Connection> open_connection(OpenOptions options) {
  auto connection = std::make_unique<Connection>();
  connection->open(options);
  return connection;
}

inline std::unique_ptr<Connection> open_memory() { return open_connection(memory_options()); }

inline Params positional(std::vector<Value> values) {
  Params params;
  params.positional = std::move(values);
  return params;
}

inline Params named(std::vector<std::pair<std::string, Value>> values) {
  Params params;
  params.named = std::move(values);
  params.is_named = true;
  return params;
}

inline QueryResult run(Connection& connection, std::string_view sql, const Params& params = {}) {
  return connection.execute(sql, params, kEverything);
}

inline Value value_at(const RowChunk& rows, std::size_t row, std::size_t column) {
  const Cell& cell = rows.cell(row, column);
  switch (cell.type) {
    case ValueType::Null:
      return Null{};
    case ValueType::Integer:
      return cell.integer;
    case ValueType::Real:
      return cell.real;
    case ValueType::Text:
      return std::string(rows.bytes(cell));
    case ValueType::Blob:
      return Blob{std::string(rows.bytes(cell))};
  }
  return Null{};
}

// The single value of a one-row, one-column query.
inline Value scalar(Connection& connection, std::string_view sql, const Params& params = {}) {
  const auto result = run(connection, sql, params);
  EXPECT_EQ(result.rows.row_count(), 1u) << sql;
  EXPECT_EQ(result.rows.column_count(), 1u) << sql;
  if (result.rows.row_count() != 1 || result.rows.column_count() != 1) return Null{};
  return value_at(result.rows, 0, 0);
}

inline std::int64_t count_rows(Connection& connection, std::string_view table) {
  const auto value = scalar(connection, "SELECT count(*) FROM " + std::string(table));
  return std::holds_alternative<std::int64_t>(value) ? std::get<std::int64_t>(value) : -1;
}

// The Error a call throws; records a failure when it throws none.
template <class Call>
Error error_of(Call&& call) {
  try {
    std::forward<Call>(call)();
  } catch (const DbError& error) {
    return error.error();
  }
  ADD_FAILURE() << "expected a DbError, but the call succeeded";
  return Error{ErrorKind::Internal, -2, "<no error was thrown>"};
}

// The SQL text of every statement prepared on `db`, in no particular order.
inline std::vector<std::string> prepared_sql(sqlite3* db) {
  std::vector<std::string> texts;
  for (sqlite3_stmt* statement = sqlite3_next_stmt(db, nullptr); statement != nullptr;
       statement = sqlite3_next_stmt(db, statement)) {
    texts.emplace_back(sqlite3_sql(statement));
  }
  return texts;
}

// Counting by recursion keeps the engine busy for as long as `limit` says,
// with no table and no user function involved.
inline std::string counting_query(std::int64_t limit) {
  return "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < " + std::to_string(limit) +
         ") SELECT count(*) FROM c";
}

inline std::string numbers_query(std::int64_t limit) {
  return "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < " + std::to_string(limit) +
         ") SELECT x FROM c";
}

// A directory of its own under the system temporary directory, removed with
// everything in it when the test ends.
class TempDir {
 public:
  TempDir() {
    std::random_device entropy;
    const auto base = std::filesystem::temp_directory_path();
    for (int attempt = 0; attempt < 100; ++attempt) {
      auto candidate = base / ("aiolibsql-test-" + std::to_string(::getpid()) + "-" + std::to_string(entropy()));
      std::error_code error;
      if (std::filesystem::create_directory(candidate, error)) {
        path_ = std::move(candidate);
        return;
      }
    }
    throw std::runtime_error("could not create a temporary directory");
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }
  std::string file(std::string_view name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// A one-shot latch: threads wait until someone opens it.
class Gate {
 public:
  void open() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    opened_.notify_all();
  }
  bool wait(std::chrono::milliseconds bound = kHangBound) {
    std::unique_lock lock(mutex_);
    return opened_.wait_for(lock, bound, [this] { return open_; });
  }
  bool is_open() {
    std::lock_guard lock(mutex_);
    return open_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable opened_;
  bool open_ = false;
};

// Collects finished operations in completion order.
class RecordingSink final : public CompletionSink {
 public:
  void complete(std::shared_ptr<Operation> operation) override {
    // Notify under the lock: a waiter that sees the operation may drop the
    // last reference to this sink at once, and must not find us still inside.
    std::lock_guard lock(mutex_);
    finished_.push_back(std::move(operation));
    changed_.notify_all();
  }
  // True once at least `count` operations have completed.
  bool wait_for(std::size_t count, std::chrono::milliseconds bound = kHangBound) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, bound, [&] { return finished_.size() >= count; });
  }
  std::vector<std::shared_ptr<Operation>> finished() {
    std::lock_guard lock(mutex_);
    return finished_;
  }
  std::size_t size() {
    std::lock_guard lock(mutex_);
    return finished_.size();
  }
  // Hands the finished operations over and forgets them.
  std::vector<std::shared_ptr<Operation>> take() {
    std::lock_guard lock(mutex_);
    return std::exchange(finished_, {});
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::shared_ptr<Operation>> finished_;
};

// A RecordingSink for one test. Each operation keeps its sink and the sink
// keeps each operation, so the sink forgets them when the test ends to free
// both (and whatever their outcomes hold, such as open cursors).
class Recorder {
 public:
  Recorder() : sink_(std::make_shared<RecordingSink>()) {}
  ~Recorder() { sink_->take(); }
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  RecordingSink* operator->() const noexcept { return sink_.get(); }
  RecordingSink* get() const noexcept { return sink_.get(); }
  operator std::shared_ptr<CompletionSink>() const { return sink_; }

 private:
  std::shared_ptr<RecordingSink> sink_;
};

// Polls `condition` until it holds; false if it never does within kHangBound.
template <class Condition>
bool eventually(Condition condition) {
  const auto deadline = std::chrono::steady_clock::now() + kHangBound;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

inline std::shared_ptr<Operation> make_operation(Operation::Work work, std::shared_ptr<CompletionSink> sink,
                                                 std::uintptr_t tag = 0) {
  return std::make_shared<Operation>(std::move(work), std::move(sink), tag);
}

inline const Error* error_in(Operation& operation) { return std::get_if<Error>(&operation.outcome()); }

// A scalar function from a lambda, for tests that need one-off behaviour.
template <class Body>
class LambdaFunction final : public ScalarFunction {
 public:
  explicit LambdaFunction(Body body) : body_(std::move(body)) {}
  Value call(const std::vector<Value>& arguments) override { return body_(arguments); }

 private:
  Body body_;
};

template <class Body>
std::shared_ptr<ScalarFunction> make_function(Body body) {
  return std::make_shared<LambdaFunction<Body>>(std::move(body));
}

}  // namespace test
}  // namespace aiolibsql
