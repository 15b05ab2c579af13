// libcurl, loaded at run time.
//
// luvsup does not link libcurl: linking it (and the TLS library it pulls in)
// costs several MiB of memory in every luvsup process, and most stacks never
// probe over HTTP. The first HTTP request dlopens the library and looks up
// exactly the functions the HTTP engine calls; <curl/curl.h> is used only for
// types and constants. The library is never unloaded: libcurl and its TLS
// library keep process-wide state that does not survive a dlclose.
#pragma once

#include <curl/curl.h>

#include <string>

namespace luvsup::http {

// The soname luvsup loads; Debian's libcurl4 package provides it.
inline constexpr const char* k_libcurl_soname = "libcurl.so.4";

// The libcurl functions the HTTP engine calls, resolved with dlsym.
struct CurlLibrary {
  decltype(&::curl_easy_init) easy_init = nullptr;
  decltype(&::curl_easy_cleanup) easy_cleanup = nullptr;
  decltype(&::curl_easy_reset) easy_reset = nullptr;
  decltype(&::curl_easy_setopt) easy_setopt = nullptr;
  decltype(&::curl_easy_getinfo) easy_getinfo = nullptr;
  decltype(&::curl_easy_strerror) easy_strerror = nullptr;
  decltype(&::curl_multi_init) multi_init = nullptr;
  decltype(&::curl_multi_cleanup) multi_cleanup = nullptr;
  decltype(&::curl_multi_setopt) multi_setopt = nullptr;
  decltype(&::curl_multi_add_handle) multi_add_handle = nullptr;
  decltype(&::curl_multi_remove_handle) multi_remove_handle = nullptr;
  decltype(&::curl_multi_socket_action) multi_socket_action = nullptr;
  decltype(&::curl_multi_info_read) multi_info_read = nullptr;
  decltype(&::curl_multi_strerror) multi_strerror = nullptr;
  decltype(&::curl_slist_append) slist_append = nullptr;
  decltype(&::curl_slist_free_all) slist_free_all = nullptr;
};

// Returns libcurl loaded from `soname` (dlopen, dlsym and curl_global_init on
// the first call for that soname; the same library afterwards), or nullptr
// with `error` set to a message for the user, e.g. "libcurl.so.4 not found:
// install libcurl4". A failure is not remembered: a later call tries again.
// Call from the loop thread only.
const CurlLibrary* load_curl_library(const std::string& soname, std::string& error);

} // namespace luvsup::http
