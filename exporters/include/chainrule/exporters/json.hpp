// SPDX-License-Identifier: MIT
// The whole trace document as JSON, and back. The layout is specified in docs/trace-format.md.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "chainrule/trace/document.hpp"

namespace chainrule::exporters {

/// Version of the JSON layout (the "schema_version" key). Bumped when a key changes meaning or
/// disappears; keys may be added without a bump, and from_json ignores keys it does not know.
inline constexpr int json_schema_version = 1;

/// The JSON text is not a trace this build can read. The message says where, as a JSON pointer
/// ("/iterations/0/gradients/3: expected a string").
class json_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct json_options {
  /// Spaces per nesting level; a negative value writes everything on one line.
  int indent = 2;
};

/// The document as JSON: every quantity, formula, value (as the exact decimal strings of the
/// trace, never converted to binary floating point), local partial, gradient, chain-rule step,
/// update, the loss history and the settings. Keys always come in the same order, so the same
/// document gives the same bytes. Ends with a newline.
std::string to_json(const trace::document& doc, const json_options& options = {});

/// Reads what to_json wrote: from_json(to_json(doc)) == doc.
/// @throws json_error if the text is not JSON, is not a chainrule trace, has another
/// schema_version than json_schema_version or another document schema than
/// trace::schema_version, lacks a key, has a value of the wrong type, or refers to a quantity,
/// expression node or step that does not exist.
trace::document from_json(std::string_view text);

}  // namespace chainrule::exporters
