#include "operation.hpp"

#include <new>
#include <utility>

namespace aiolibsql {

Error current_exception_error() noexcept {
  try {
    throw;
  } catch (const DbError& error) {
    return error.error();
  } catch (const std::bad_alloc&) {
    return Error{ErrorKind::Memory, -1, "out of memory"};
  } catch (const std::exception& error) {
    return Error{ErrorKind::Internal, -1, error.what()};
  } catch (...) {
    return Error{ErrorKind::Internal, -1, "unknown error"};
  }
}

void Operation::run() noexcept {
  try {
    outcome_ = work_();
  } catch (...) {
    outcome_ = current_exception_error();
  }
}

void Operation::finish(Outcome outcome) noexcept {
  outcome_ = std::move(outcome);
  work_ = nullptr;
}

void Operation::complete(std::shared_ptr<Operation> operation, Outcome outcome) noexcept {
  operation->finish(std::move(outcome));
  deliver(std::move(operation));
}

void Operation::deliver(std::shared_ptr<Operation> operation) noexcept {
  // The sink must outlive its own complete(), even if the operation it
  // receives held the last reference to it.
  if (auto sink = operation->sink_) sink->complete(std::move(operation));
}

void Operation::deliver_all(std::vector<std::shared_ptr<Operation>>& operations) noexcept {
  std::span<std::shared_ptr<Operation>> rest(operations);
  while (!rest.empty()) {
    auto sink = rest.front()->sink_;
    std::size_t run = 1;
    while (run < rest.size() && rest[run]->sink_ == sink) ++run;
    if (sink) sink->complete_all(rest.first(run));
    rest = rest.subspan(run);
  }
  operations.clear();
}

}  // namespace aiolibsql
