#include "http/response_parser.hpp"

#include "http/failure_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace luvsup::http {

namespace {

ResponseParser& self_of(http_parser* parser) { return *static_cast<ResponseParser*>(parser->data); }

} // namespace

ResponseParser::ResponseParser(Options options) : m_options(options) {
  http_parser_init(&m_parser, HTTP_RESPONSE);
  m_parser.data = this;
  // As curl: a chunked body whose response also names a length is read by its chunks.
  m_parser.allow_chunked_length = 1;
  http_parser_settings_init(&m_settings);
  m_settings.on_message_begin = &ResponseParser::on_message_begin;
  m_settings.on_status = &ResponseParser::on_status;
  m_settings.on_header_field = &ResponseParser::on_header_field;
  m_settings.on_header_value = &ResponseParser::on_header_value;
  m_settings.on_headers_complete = &ResponseParser::on_headers_complete;
  m_settings.on_body = &ResponseParser::on_body;
  m_settings.on_message_complete = &ResponseParser::on_message_complete;
}

bool ResponseParser::feed(std::string_view data) {
  if (m_complete || !m_error.empty()) {
    return false;
  }
  m_started = m_started || !data.empty();
  http_parser_execute(&m_parser, &m_settings, data.data(), data.size());
  if (!m_complete && m_error.empty() && HTTP_PARSER_ERRNO(&m_parser) != HPE_OK) {
    fail_from_parser();
  }
  return !m_complete && m_error.empty();
}

void ResponseParser::finish() {
  if (m_complete || !m_error.empty()) {
    return;
  }
  if (!m_started) {
    m_error = k_closed_without_answer;
    return;
  }
  http_parser_execute(&m_parser, &m_settings, nullptr, 0);
  if (!m_complete && m_error.empty()) {
    if (HTTP_PARSER_ERRNO(&m_parser) != HPE_OK && HTTP_PARSER_ERRNO(&m_parser) != HPE_INVALID_EOF_STATE) {
      fail_from_parser();
    } else {
      m_error = "the server closed the connection before the response was complete";
    }
  }
}

void ResponseParser::fail_from_parser() {
  const auto code = HTTP_PARSER_ERRNO(&m_parser);
  if (code == HPE_HEADER_OVERFLOW) {
    m_error = headers_too_large_text();
    return;
  }
  m_error = fmt::format("invalid HTTP response: {}", http_errno_description(code));
}

bool ResponseParser::count_header_bytes(size_t length) {
  m_header_bytes += length;
  if (m_header_bytes > k_max_header_bytes) {
    m_error = headers_too_large_text();
    return false;
  }
  return true;
}

int ResponseParser::on_message_begin(http_parser* parser) {
  ResponseParser& self = self_of(parser);
  self.m_header_bytes = 0;
  self.m_in_value = false;
  self.m_headers.clear(); // a final response after "100 Continue": its headers replace those before
  return 0;
}

int ResponseParser::on_status(http_parser* parser, const char*, size_t length) {
  return self_of(parser).count_header_bytes(length) ? 0 : -1;
}

int ResponseParser::on_header_field(http_parser* parser, const char* at, size_t length) {
  ResponseParser& self = self_of(parser);
  if (!self.count_header_bytes(length)) {
    return -1;
  }
  if (self.m_options.keep_headers) {
    // A name may come in pieces (split across reads): a piece after a value starts a new header.
    if (self.m_in_value || self.m_headers.empty()) {
      self.m_headers.emplace_back();
    }
    std::string& name = self.m_headers.back().first;
    std::transform(at, at + length, std::back_inserter(name),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  }
  self.m_in_value = false;
  return 0;
}

int ResponseParser::on_header_value(http_parser* parser, const char* at, size_t length) {
  ResponseParser& self = self_of(parser);
  if (!self.count_header_bytes(length)) {
    return -1;
  }
  if (self.m_options.keep_headers && !self.m_headers.empty()) {
    self.m_headers.back().second.append(at, length);
  }
  self.m_in_value = true;
  return 0;
}

int ResponseParser::on_headers_complete(http_parser* parser) {
  ResponseParser& self = self_of(parser);
  const int status = static_cast<int>(parser->status_code);
  self.m_interim = status >= 100 && status < 200 && status != 101;
  if (!self.m_interim) {
    self.m_status = status;
    for (auto& header : self.m_headers) {
      std::string& value = header.second;
      value.erase(value.find_last_not_of(" \t") + 1);
    }
  }
  // 1: the response has no body (HEAD); a 1xx has none anyway.
  return self.m_options.head && !self.m_interim ? 1 : 0;
}

int ResponseParser::on_body(http_parser* parser, const char* at, size_t length) {
  ResponseParser& self = self_of(parser);
  const size_t room = self.m_options.max_body - std::min(self.m_options.max_body, self.m_body.size());
  self.m_body.append(at, std::min(room, length));
  return 0;
}

int ResponseParser::on_message_complete(http_parser* parser) {
  ResponseParser& self = self_of(parser);
  if (self.m_interim) {
    self.m_interim = false;
    return 0; // the final response follows on the same stream
  }
  self.m_complete = true;
  http_parser_pause(parser, 1); // bytes after the response are not read
  return 0;
}

} // namespace luvsup::http
