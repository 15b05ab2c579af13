#include "lua/embedded_module.hpp"

namespace luvsup::lua {

const EmbeddedModule* find_embedded_module(std::span<const EmbeddedModule> modules,
                                           std::string_view name) noexcept {
  for (const EmbeddedModule& module : modules) {
    if (module.name == name) {
      return &module;
    }
  }
  return nullptr;
}

std::optional<std::string> with_chunk_name(const EmbeddedModule& module,
                                           std::string_view chunk_name) {
  const std::string_view bytes = module.bytecode;
  if (module.chunk_name_offset > bytes.size() ||
      module.chunk_name_size > bytes.size() - module.chunk_name_offset) {
    return std::nullopt;
  }
  const size_t tail = module.chunk_name_offset + module.chunk_name_size;
  std::string out;
  out.reserve(bytes.size() - module.chunk_name_size + chunk_name.size() + 4);
  out.append(bytes.substr(0, module.chunk_name_offset));
  out.append(dump_string(chunk_name));
  out.append(bytes.substr(tail));
  return out;
}

}  // namespace luvsup::lua
