// A PendingOp made of the handle of an operation started elsewhere (a
// process::RunningCommand, an HTTP transfer's PendingProbe): destroying it
// destroys the handle, which cancels the operation.
#pragma once

#include "runbook/waiting_call.hpp"

#include <memory>

namespace luvsup::runbook {

template <typename Handle> class OwnedOp final : public PendingOp {
public:
  explicit OwnedOp(std::unique_ptr<Handle> handle) : m_handle(std::move(handle)) {}

private:
  std::unique_ptr<Handle> m_handle;
};

} // namespace luvsup::runbook
