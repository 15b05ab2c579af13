// The desired state an operator set explicitly, persisted in the state
// directory so that it outlives a restart of luvsup.
//
// Today that is the set of services stopped with `luvsup stop`: they stay
// down (not restarted by their policy, not started at boot, not pulled in by
// a dependent) until `luvsup start` clears the mark. The file
// <state_dir>/desired.json is replaced atomically (temporary file, fsync,
// rename), so a crash leaves the old or the new content, never a torn one.
#pragma once

#include <optional>
#include <set>
#include <string>

namespace luvsup::control {

class DesiredState {
public:
  explicit DesiredState(std::string state_dir);

  // Reads the file; a missing file is an empty set. Returns why it could not
  // be read (the set is then empty).
  std::optional<std::string> load();
  // Writes the set atomically. Returns why it failed.
  std::optional<std::string> save() const;

  const std::set<std::string>& stopped() const { return m_stopped; }
  void set_stopped(const std::string& service, bool stopped);
  const std::string& path() const { return m_path; }

private:
  std::string m_path;
  std::set<std::string> m_stopped;
};

} // namespace luvsup::control
