// The environment a child starts with.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace luvsup::process {

// An ordered KEY=VALUE list where setting a key again replaces it in place.
class EnvList {
public:
  // Copies `environ`, leaving out the variables systemd sets for luvsup itself
  // (NOTIFY_SOCKET, LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES, WATCHDOG_PID,
  // WATCHDOG_USEC: a child that saw them would talk to luvsup's manager or
  // claim fds it does not have) and any LUVSUP_SERVICE (luvsup may itself run
  // as a service of another luvsup).
  static EnvList inherited();

  void set(std::string_view key, std::string_view value);
  // The value of `key`, or nullopt when unset. The view is valid until the
  // list is next changed (set or take).
  [[nodiscard]] std::optional<std::string_view> get(std::string_view key) const;
  [[nodiscard]] const std::vector<std::string>& entries() const { return m_entries; }
  std::vector<std::string> take() { return std::move(m_entries); }

private:
  static EnvList copy_environ();

  std::vector<std::string> m_entries;
};

// Whether `name` is one of the variables inherited() drops.
bool is_dropped_variable(std::string_view name);

}  // namespace luvsup::process
