#include "http/curl_library.hpp"

#include <dlfcn.h>
#include <fmt/format.h>

#include <map>
#include <memory>

namespace luvsup::http {

namespace {

// Looks up `name` in `library` into `fn`; remembers the first missing name.
template <typename Fn> void bind(void* library, const char* name, Fn& fn, const char*& missing) {
  void* symbol = dlsym(library, name);
  if (symbol == nullptr && missing == nullptr) {
    missing = name;
  }
  fn = reinterpret_cast<Fn>(symbol);
}

std::unique_ptr<CurlLibrary> open_library(const std::string& soname, std::string& error) {
  void* library = dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    std::string why = dlerror();
    // dlerror names the first file it could not open: the library itself, or
    // one it depends on (the TLS library, say).
    if (why.starts_with(soname + ":") && why.find("No such file") != std::string::npos) {
      error = fmt::format("{} not found: install libcurl4", soname);
    } else {
      error = fmt::format("cannot load {}: {}", soname, why);
    }
    return nullptr;
  }
  auto curl = std::make_unique<CurlLibrary>();
  const char* missing = nullptr;
  decltype(&::curl_global_init) global_init = nullptr;
  bind(library, "curl_global_init", global_init, missing);
  bind(library, "curl_easy_init", curl->easy_init, missing);
  bind(library, "curl_easy_cleanup", curl->easy_cleanup, missing);
  bind(library, "curl_easy_reset", curl->easy_reset, missing);
  bind(library, "curl_easy_setopt", curl->easy_setopt, missing);
  bind(library, "curl_easy_getinfo", curl->easy_getinfo, missing);
  bind(library, "curl_easy_strerror", curl->easy_strerror, missing);
  bind(library, "curl_multi_init", curl->multi_init, missing);
  bind(library, "curl_multi_cleanup", curl->multi_cleanup, missing);
  bind(library, "curl_multi_setopt", curl->multi_setopt, missing);
  bind(library, "curl_multi_add_handle", curl->multi_add_handle, missing);
  bind(library, "curl_multi_remove_handle", curl->multi_remove_handle, missing);
  bind(library, "curl_multi_socket_action", curl->multi_socket_action, missing);
  bind(library, "curl_multi_info_read", curl->multi_info_read, missing);
  bind(library, "curl_multi_strerror", curl->multi_strerror, missing);
  bind(library, "curl_slist_append", curl->slist_append, missing);
  bind(library, "curl_slist_free_all", curl->slist_free_all, missing);
  if (missing != nullptr) {
    error = fmt::format("{} lacks {}: install a current libcurl4", soname, missing);
    dlclose(library);
    return nullptr;
  }
  CURLcode code = global_init(CURL_GLOBAL_DEFAULT);
  if (code != CURLE_OK) {
    error = fmt::format("{}: curl_global_init failed: {}", soname, curl->easy_strerror(code));
    return nullptr; // the library stays loaded: it may have half-initialised itself
  }
  return curl;
}

} // namespace

const CurlLibrary* load_curl_library(const std::string& soname, std::string& error) {
  // Keyed by soname so that a test can load a missing name next to the real
  // one; in luvsup itself there is only k_libcurl_soname.
  static std::map<std::string, std::unique_ptr<CurlLibrary>> loaded;
  auto found = loaded.find(soname);
  if (found != loaded.end()) {
    return found->second.get();
  }
  auto curl = open_library(soname, error);
  if (curl == nullptr) {
    return nullptr;
  }
  return loaded.emplace(soname, std::move(curl)).first->second.get();
}

} // namespace luvsup::http
