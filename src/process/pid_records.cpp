#include "process/pid_records.hpp"

#include "os/file_text.hpp"
#include "os/unique_fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace luvsup::process {

namespace {

std::string failure(const std::string& what, int err) {
  return what + ": " + std::strerror(err);
}

// mkdir -p with mode 0700 for the directories it creates.
bool make_dirs(const std::string& dir, int& err) {
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') {
      continue;
    }
    std::string prefix = dir.substr(0, pos);
    if (mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      err = errno;
      return false;
    }
  }
  return true;
}

bool write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

PidRecords::PidRecords(std::string state_dir) : m_dir(std::move(state_dir)) {
  while (m_dir.size() > 1 && m_dir.back() == '/') {
    m_dir.pop_back();
  }
}

void PidRecords::set(PidRecord record) {
  if (record.start_time == 0) {
    m_lookups.insert(record.pid);
  }
  if (auto it = m_index.find(record.service); it != m_index.end()) {
    m_records[it->second] = std::move(record);
    return;
  }
  m_index.emplace(record.service, m_records.size());
  m_records.push_back(std::move(record));
}

void PidRecords::erase(const std::string& service) {
  auto it = m_index.find(service);
  if (it == m_index.end()) {
    return;
  }
  // The last record takes the erased one's place: every exit at a shutdown
  // of many services stays O(1). The file's order carries no meaning.
  const size_t place = it->second;
  m_index.erase(it);
  if (place + 1 != m_records.size()) {
    m_records[place] = std::move(m_records.back());
    m_index[m_records[place].service] = place;
  }
  m_records.pop_back();
}

void PidRecords::complete_start_times(uint64_t (*start_time_of)(pid_t)) {
  for (auto& record : m_records) {
    if (record.start_time == 0 && m_lookups.count(record.pid) > 0) {
      record.start_time = start_time_of(record.pid);
    }
  }
  m_lookups.clear();
}

std::optional<std::string> PidRecords::save() const {
  int err = 0;
  if (!make_dirs(m_dir, err)) {
    return failure("mkdir " + m_dir, err);
  }
  std::string text;
  for (const auto& r : m_records) {
    text += std::to_string(r.pid) + " " + std::to_string(r.pgid) + " " +
            std::to_string(r.start_time) + " " + r.service + "\n";
  }
  // The temporary name is per process, so two luvsups racing on one state
  // directory never write into the same file.
  const std::string target = file_path();
  const std::string tmp = target + ".tmp." + std::to_string(getpid());
  os::UniqueFd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd) {
    return failure("open " + tmp, errno);
  }
  // No fsync: the records only have to survive luvsup being killed, which the
  // rename covers. After a power loss the processes are gone too, and an fsync
  // here would stall the event loop on every spawn.
  if (!write_all(fd.get(), text)) {
    err = errno;
    unlink(tmp.c_str());
    return failure("write " + tmp, err);
  }
  fd.reset();
  if (rename(tmp.c_str(), target.c_str()) != 0) {
    err = errno;
    unlink(tmp.c_str());
    return failure("rename " + tmp, err);
  }
  return std::nullopt;
}

std::vector<PidRecord> PidRecords::load() const {
  std::vector<PidRecord> out;
  const std::string text = os::read_file(file_path()).value_or("");
  // "pid pgid start_time name": the name is the rest of the line.
  for (const std::string_view line : os::lines(text)) {
    const auto f = os::fields(line);
    if (f.size() < 4) {
      continue;
    }
    auto pid = os::parse_number<pid_t>(f[0]);
    auto pgid = os::parse_number<pid_t>(f[1]);
    auto start_time = os::parse_number<uint64_t>(f[2]);
    if (!pid || !pgid || !start_time || *pid <= 0) {
      continue;
    }
    const size_t name_at = static_cast<size_t>(f[3].data() - line.data());
    out.push_back(PidRecord{std::string(line.substr(name_at)), *pid, *pgid, *start_time});
  }
  return out;
}

}  // namespace luvsup::process
