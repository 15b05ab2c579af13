#include "process/credentials.hpp"

#include "os/file_text.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

namespace luvsup::process {

namespace {

size_t nss_buffer_size() {
  long size = sysconf(_SC_GETPW_R_SIZE_MAX);
  return size > 0 ? static_cast<size_t>(size) : 16384;
}

}  // namespace

std::variant<gid_t, LaunchError> resolve_group(const std::string& group) {
  std::vector<char> buf(nss_buffer_size());
  struct group gr {};
  struct group* found = nullptr;
  int rc = 0;
  while ((rc = getgrnam_r(group.c_str(), &gr, buf.data(), buf.size(), &found)) == ERANGE &&
         buf.size() < (1u << 24)) {
    buf.resize(buf.size() * 2);
  }
  if (found != nullptr) {
    return found->gr_gid;
  }
  if (auto id = os::parse_number<unsigned long>(group)) {
    return static_cast<gid_t>(*id);
  }
  if (rc != 0 && rc != ENOENT && rc != ESRCH) {
    return LaunchError{rc, "group \"" + group + "\""};
  }
  return LaunchError{0, "group \"" + group + "\": no such group"};
}

std::variant<Credentials, LaunchError> resolve_credentials(const std::string& user,
                                                           const std::string& group) {
  Credentials creds;
  std::vector<char> buf(nss_buffer_size());
  passwd pw{};
  passwd* found = nullptr;
  int rc = 0;
  while ((rc = getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found)) == ERANGE &&
         buf.size() < (1u << 24)) {
    buf.resize(buf.size() * 2);
  }
  if (found == nullptr) {
    auto id = os::parse_number<unsigned long>(user);
    if (!id) {
      if (rc != 0 && rc != ENOENT && rc != ESRCH) {
        return LaunchError{rc, "user \"" + user + "\""};
      }
      return LaunchError{0, "user \"" + user + "\": no such user"};
    }
    // A numeric user may still have an entry (getpwnam only matches names).
    rc = getpwuid_r(static_cast<uid_t>(*id), &pw, buf.data(), buf.size(), &found);
    if (found == nullptr) {
      creds.uid = static_cast<uid_t>(*id);
      creds.gid = static_cast<gid_t>(*id);  // no passwd entry: no primary group either
      creds.name = user;
    }
  }
  if (found != nullptr) {
    creds.uid = found->pw_uid;
    creds.gid = found->pw_gid;
    creds.name = found->pw_name;
    creds.home = found->pw_dir;
  }
  if (!group.empty()) {
    auto gid = resolve_group(group);
    if (auto* error = std::get_if<LaunchError>(&gid)) {
      return *error;
    }
    creds.gid = std::get<gid_t>(gid);
  }
  if (found == nullptr) {
    creds.groups = {creds.gid};  // no name to look up memberships by
    return creds;
  }
  // getgrouplist returns -1 and the needed count when the buffer is short.
  int count = 16;
  for (int attempt = 0; attempt < 8; ++attempt) {
    creds.groups.resize(static_cast<size_t>(count));
    int n = count;
    if (getgrouplist(creds.name.c_str(), creds.gid, creds.groups.data(), &n) >= 0) {
      creds.groups.resize(static_cast<size_t>(n));
      return creds;
    }
    count = n > count ? n : count * 2;
  }
  return LaunchError{ENOMEM, "getgrouplist " + creds.name};
}

}  // namespace luvsup::process
