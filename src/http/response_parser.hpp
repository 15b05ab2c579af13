// An HTTP/1.x response read from a stream, parsed by http-parser (never by
// hand): the status, the body capped at a size, the headers when asked for.
//
// Interim responses (1xx other than 101) are skipped, as curl does. The
// headers of the final response are capped (k_max_header_bytes), so a
// broken endpoint cannot fill memory; the body beyond the cap is parsed and
// discarded, so that the response still completes.
#pragma once

#include <http_parser.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace luvsup::http {

class ResponseParser {
public:
  struct Options {
    size_t max_body = 64 * 1024;
    bool keep_headers = false; // names lowercased, in the order they came
    bool head = false;         // the request was HEAD: the response has no body
  };

  explicit ResponseParser(Options options);
  ResponseParser(const ResponseParser&) = delete;
  ResponseParser& operator=(const ResponseParser&) = delete;

  // Feeds bytes as they arrive. Returns false once the response is complete
  // or broken: nothing more is read then.
  bool feed(std::string_view data);
  // The peer closed the stream: a response without a length ends here.
  void finish();

  [[nodiscard]] bool complete() const { return m_complete; }
  // Why the response cannot be read; empty while it can or once complete.
  [[nodiscard]] const std::string& error() const { return m_error; }
  // Whether any byte of a response came.
  [[nodiscard]] bool started() const { return m_started; }

  [[nodiscard]] int status() const { return m_status; }
  std::string& body() { return m_body; }
  std::vector<std::pair<std::string, std::string>>& headers() { return m_headers; }

private:
  static int on_message_begin(http_parser* parser);
  static int on_header_field(http_parser* parser, const char* at, size_t length);
  static int on_header_value(http_parser* parser, const char* at, size_t length);
  static int on_status(http_parser* parser, const char* at, size_t length);
  static int on_headers_complete(http_parser* parser);
  static int on_body(http_parser* parser, const char* at, size_t length);
  static int on_message_complete(http_parser* parser);
  // Counts header bytes; false (and an error) past the cap.
  bool count_header_bytes(size_t length);
  void fail_from_parser();

  Options m_options;
  http_parser m_parser{};
  http_parser_settings m_settings{};
  size_t m_header_bytes = 0;
  bool m_in_value = false; // the last header callback was a value
  bool m_started = false;
  bool m_complete = false;
  bool m_interim = false; // the message being parsed is a 1xx to skip
  int m_status = 0;
  std::string m_body;
  std::vector<std::pair<std::string, std::string>> m_headers;
  std::string m_error;
};

} // namespace luvsup::http
