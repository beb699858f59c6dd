#include "native_remote_connection.hpp"

#include <chrono>
#include <cmath>

#include "completion_port.hpp"
#include "errors.hpp"
#include "native_connection.hpp"
#include "values.hpp"

namespace aiolibsql::py {

namespace {

[[noreturn]] void not_remotely(const char* what, const char* why) {
  raise(ErrorKind::NotSupported, std::string(what) + " is not supported on a remote database: " + why);
}

std::chrono::milliseconds milliseconds(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(seconds * 1000.0)));
}

}  // namespace

remote::RemoteOptions remote_options(const std::string& url, nb::handle auth_token, double timeout) {
  remote::RemoteOptions options;
  try {
    options.endpoint = remote::parse_remote_url(url, secret_key(auth_token));
  } catch (const DbError& error) {
    raise(error.error());
  }
  // Zero means no bound, as libcurl reads it.
  options.http.connect_timeout = milliseconds(timeout);
  options.http.request_timeout = milliseconds(timeout);
  return options;
}

NativeRemoteConnection::NativeRemoteConnection(const std::string& url, nb::handle auth_token, double timeout,
                                               std::optional<std::string> isolation_level, int autocommit) {
  remote::RemoteOptions options = remote_options(url, auth_token, timeout);
  options.transactions = TransactionRules{transaction_control(autocommit), std::move(isolation_level)};
  core_ = std::make_shared<remote::RemoteConnection>(std::move(options));
}

nb::object NativeRemoteConnection::open(nb::handle port) {
  return start_operation(port, core_, [&](auto sink, auto tag) { core_->open(std::move(sink), tag); });
}

nb::object NativeRemoteConnection::try_execute(nb::handle sql, nb::handle) {
  sql_view(sql, "the SQL statement");
  if (core_->is_closed()) raise(ErrorKind::Programming, "Cannot operate on a closed database.");
  return nb::none();
}

nb::object NativeRemoteConnection::execute(nb::handle port, nb::handle sql, nb::handle parameters) {
  std::string text = sql_text(sql, "the SQL statement");
  Params params = to_params(parameters);
  return start_operation(port, core_, [&](auto sink, auto tag) {
    core_->execute(std::move(text), std::move(params), std::move(sink), tag);
  });
}

nb::object NativeRemoteConnection::executemany(nb::handle port, nb::handle sql, nb::handle batch) {
  std::string text = sql_text(sql, "the SQL statement");
  auto converted = parameter_sets(batch);
  return start_operation(port, core_, [&](auto sink, auto tag) {
    core_->execute_many(std::move(text), std::move(converted), std::move(sink), tag);
  });
}

nb::object NativeRemoteConnection::executescript(nb::handle port, nb::handle script) {
  std::string text = sql_text(script, "the script");
  return start_operation(port, core_,
                         [&](auto sink, auto tag) { core_->execute_script(std::move(text), std::move(sink), tag); });
}

nb::object NativeRemoteConnection::commit(nb::handle port) {
  return start_operation(port, core_, [&](auto sink, auto tag) { core_->commit(std::move(sink), tag); });
}

nb::object NativeRemoteConnection::rollback(nb::handle port) {
  return start_operation(port, core_, [&](auto sink, auto tag) { core_->rollback(std::move(sink), tag); });
}

nb::object NativeRemoteConnection::set_autocommit(nb::handle port, int autocommit) {
  const auto control = transaction_control(autocommit);
  return start_operation(port, core_,
                         [&](auto sink, auto tag) { core_->set_transaction_control(control, std::move(sink), tag); });
}

nb::object NativeRemoteConnection::close(nb::handle port) {
  return start_operation(port, core_, [&](auto sink, auto tag) { core_->close(std::move(sink), tag); });
}

nb::object NativeRemoteConnection::rekey(nb::handle, nb::handle) {
  not_remotely("rekey()", "the server holds the database and its encryption");
}

nb::object NativeRemoteConnection::backup(nb::handle, nb::handle, std::string, int) {
  not_remotely("backup()", "Hrana has no page-level access to the database");
}

nb::object NativeRemoteConnection::create_function(nb::handle, std::string, int, nb::object, bool) {
  not_remotely("create_function()", "statements run on the server, which cannot call Python");
}

void NativeRemoteConnection::interrupt() {
  not_remotely("interrupt()", "Hrana cannot stop a statement the server is running; cancel the awaiting task instead");
}

std::int64_t NativeRemoteConnection::total_changes() const {
  not_remotely("total_changes", "each statement may run on a different server connection");
}

}  // namespace aiolibsql::py
