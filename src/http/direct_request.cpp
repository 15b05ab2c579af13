#include "http/direct_request.hpp"

#include "http/ascii_case.hpp"

#include <uv.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <string_view>

namespace luvsup::http {

namespace {

std::optional<sockaddr_storage> address_of(const std::string& host, int port) {
  sockaddr_storage addr{};
  if (uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr)) == 0 ||
      uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr)) == 0) {
    return addr;
  }
  return std::nullopt;
}

} // namespace

std::optional<DirectTarget> direct_target(const std::string& url) {
  constexpr std::string_view scheme = "http://";
  if (!starts_with_nocase(url, scheme)) {
    return std::nullopt;
  }
  const std::string_view rest = std::string_view(url).substr(scheme.size());
  const size_t authority_end = std::min(rest.find_first_of("/?#"), rest.size());
  const std::string_view authority = rest.substr(0, authority_end);
  if (authority.find('@') != std::string_view::npos) {
    return std::nullopt; // credentials: curl sends them
  }
  std::string_view host = authority;
  std::string_view port_text;
  std::string address_text;
  if (authority.starts_with('[')) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    host = authority.substr(0, close + 1);
    address_text = std::string(authority.substr(1, close - 1));
    port_text = authority.substr(close + 1);
    if (address_text.find('%') != std::string::npos) {
      return std::nullopt; // a zone id: curl knows how to bind it
    }
  } else {
    const size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    port_text = colon == std::string_view::npos ? std::string_view() : authority.substr(colon);
    address_text = std::string(host);
  }
  int port = 80;
  if (!port_text.empty()) {
    if (port_text.front() != ':') {
      return std::nullopt;
    }
    port_text.remove_prefix(1);
    if (!port_text.empty()) {
      auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
      if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 1 || port > 65535) {
        return std::nullopt;
      }
    }
  }
  DirectTarget target;
  if (equal_nocase(address_text, "localhost")) {
    target.addresses = {*address_of("127.0.0.1", port), *address_of("::1", port)};
  } else if (auto addr = address_of(address_text, port)) {
    target.addresses = {*addr};
  } else {
    return std::nullopt; // a name to resolve: curl does that
  }
  target.host_header = std::string(host);
  if (port != 80) {
    target.host_header += ":" + std::to_string(port);
  }
  std::string_view path = rest.substr(authority_end);
  path = path.substr(0, path.find('#'));
  target.path = path.empty() || path.front() != '/' ? "/" + std::string(path) : std::string(path);
  return target;
}

std::string request_text(const health::HttpRequestSpec& spec, const DirectTarget& target) {
  const std::string method = upper(spec.method);
  const bool has_body = method == "POST" || !spec.body.empty();
  auto given = [&](std::string_view name) {
    return std::any_of(spec.headers.begin(), spec.headers.end(),
                       [&](const auto& header) { return equal_nocase(header.first, name); });
  };
  std::string text;
  text.reserve(128 + spec.body.size());
  auto add = [&](std::string_view name, std::string_view value) {
    text.append(name).append(": ").append(value).append("\r\n");
  };
  text.append(method).append(" ").append(target.path).append(" HTTP/1.1\r\n");
  if (!given("Host")) {
    add("Host", target.host_header);
  }
  if (!given("User-Agent")) {
    add("User-Agent", "luvsup");
  }
  if (!given("Accept")) {
    add("Accept", "*/*");
  }
  for (const auto& [name, value] : spec.headers) {
    if (!equal_nocase(name, "Content-Length") && !equal_nocase(name, "Connection") &&
        !equal_nocase(name, "Transfer-Encoding")) {
      add(name, value);
    }
  }
  if (has_body) {
    add("Content-Length", std::to_string(spec.body.size()));
    if (!given("Content-Type")) {
      add("Content-Type", "application/x-www-form-urlencoded");
    }
  }
  text.append("Connection: close\r\n\r\n").append(spec.body);
  return text;
}

} // namespace luvsup::http
