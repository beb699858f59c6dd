// The Python-facing handle of one RemoteConnection: the same methods as
// NativeConnection, so the Python Connection drives either. What a remote
// database cannot do raises NotSupportedError naming the reason.
#pragma once

#include <nanobind/nanobind.h>

#include <memory>
#include <optional>
#include <string>

#include "remote_connection.hpp"

namespace aiolibsql::py {

namespace nb = nanobind;

// A remote endpoint and its HTTP bounds from connect()'s arguments;
// InterfaceError for a URL that is not a remote database's.
remote::RemoteOptions remote_options(const std::string& url, nb::handle auth_token, double timeout);

class NativeRemoteConnection {
 public:
  // Throws InterfaceError for a URL that is not a remote database's.
  NativeRemoteConnection(const std::string& url, nb::handle auth_token, double timeout,
                         std::optional<std::string> isolation_level, int autocommit);

  nb::object open(nb::handle port);
  // Remote statements never run on the caller's thread.
  nb::object try_execute(nb::handle sql, nb::handle parameters);
  nb::object execute(nb::handle port, nb::handle sql, nb::handle parameters);
  nb::object executemany(nb::handle port, nb::handle sql, nb::handle batch);
  nb::object executescript(nb::handle port, nb::handle script);
  nb::object commit(nb::handle port);
  nb::object rollback(nb::handle port);
  nb::object set_autocommit(nb::handle port, int autocommit);
  nb::object close(nb::handle port);

  nb::object rekey(nb::handle port, nb::handle key);
  nb::object backup(nb::handle port, nb::handle target, std::string schema, int pages);
  nb::object create_function(nb::handle port, std::string name, int arg_count, nb::object callable, bool deterministic);
  void interrupt();
  std::int64_t total_changes() const;

  bool in_transaction() const { return core_->in_transaction(); }
  bool closed() const { return core_->is_closed(); }

 private:
  std::shared_ptr<remote::RemoteConnection> core_;
};

}  // namespace aiolibsql::py
