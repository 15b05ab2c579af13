#include "lua/data_dir.hpp"

#include <cstdlib>
#include <filesystem>
#include <system_error>

#ifndef LUVSUP_DATA_DIR
#define LUVSUP_DATA_DIR "/usr/local/share/luvsup"
#endif

namespace luvsup::lua {

namespace fs = std::filesystem;

namespace {

bool holds_library(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / "lua" / "luvsup" / "dsl.lua", ec);
}

}  // namespace

std::string find_data_dir() {
  if (const char* env = std::getenv("LUVSUP_DATA_DIR"); env != nullptr && *env != '\0') {
    std::error_code ec;
    fs::path dir = fs::weakly_canonical(env, ec);
    return ec ? std::string(env) : dir.string();
  }
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path prefix = exe.parent_path().parent_path();
    for (const fs::path& candidate : {prefix / "share" / "luvsup", prefix}) {
      if (holds_library(candidate)) {
        return candidate.lexically_normal().string();
      }
    }
  }
  return LUVSUP_DATA_DIR;
}

std::string package_path(const std::string& stack_dir, const std::string& data_dir,
                         const std::string& default_path) {
  std::string path = stack_dir + "/?.lua;" + stack_dir + "/?/init.lua;" + data_dir + "/lua/?.lua;" +
                     data_dir + "/lua/?/init.lua;" + data_dir + "/?.lua";
  if (!default_path.empty()) {
    path += ";" + default_path;
  }
  return path;
}

}  // namespace luvsup::lua
