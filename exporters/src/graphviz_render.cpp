// SPDX-License-Identifier: MIT
#include "chainrule/exporters/graphviz.hpp"

#include <cgraph.h>
#include <gvc.h>

#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace chainrule::exporters {

namespace {

// Graphviz keeps global state everywhere (lexer, error handler, agnameof's static buffer, plugin
// tables), so one lock guards every call into it, from parsing to freeing.
std::mutex& graphviz_mutex() {
  static std::mutex mutex;
  return mutex;
}

// ---- reading DOT from memory --------------------------------------------------------------------

struct memory_reader {
  std::string_view text;
  std::size_t position = 0;
};

// Hands the lexer one byte at a time. cgraph's lexer keeps what it has read but not consumed in a
// global buffer that the next parse starts from, so whatever followed the graph (a newline, a
// second graph) would otherwise leak into the next call, and shift its line numbers.
int read_byte(void* channel, char* buffer, int size) {
  auto* reader = static_cast<memory_reader*>(channel);
  if (size <= 0 || reader->position >= reader->text.size()) return 0;
  buffer[0] = reader->text[reader->position++];
  return 1;
}

// cgraph's default ID discipline makes output depend on things other than the text:
// - anonymous objects are numbered from one process-wide counter, and an anonymous root graph's
//   name ("%7") ends up in the SVG;
// - a named object's ID is the address of its interned name, and subgraphs are kept (and laid
//   out) in ID order, i.e. in heap-address order.
// This discipline numbers both per root graph, in order of first appearance: names get even IDs
// (2, 4, ...), anonymous objects odd ones (1, 3, ...), as in the default, which tells them apart
// by parity.
struct id_state {
  explicit id_state(Agraph_t* graph) : root(graph) {}

  Agraph_t* root;
  IDTYPE next_anonymous = 1;
  IDTYPE next_named = 2;
  std::unordered_map<std::string, IDTYPE> ids;
  std::unordered_map<IDTYPE, char*> names;  // interned with agstrdup, as Graphviz expects
};

void* id_open(Agraph_t* root, Agdisc_t*) noexcept {
  return new id_state(root);
}

long id_map(void* state, int, char* name, IDTYPE* id, int create) noexcept {
  auto* ids = static_cast<id_state*>(state);
  if (name == nullptr) {
    *id = ids->next_anonymous;
    ids->next_anonymous += 2;
    return 1;
  }
  if (const auto found = ids->ids.find(name); found != ids->ids.end()) {
    *id = found->second;
    return 1;
  }
  if (create == 0) return 0;
  *id = ids->next_named;
  ids->next_named += 2;
  ids->ids.emplace(name, *id);
  ids->names.emplace(*id, agstrdup(ids->root, name));
  return 1;
}

long id_alloc(void*, int, IDTYPE) noexcept {
  return 0;
}  // callers may not choose IDs

// Several objects can share a name (a node and a subgraph), so names are released at close.
void id_free(void*, int, IDTYPE) noexcept {}

char* id_print(void* state, int, IDTYPE id) noexcept {
  const auto* ids = static_cast<id_state*>(state);
  const auto found = ids->names.find(id);
  return found == ids->names.end() ? nullptr : found->second;
}

void id_close(void* state) noexcept {
  auto* ids = static_cast<id_state*>(state);
  for (const auto& [id, name] : ids->names)
    agstrfree(ids->root, name);
  delete ids;
}

void id_register(void*, int, void*) noexcept {}

// The graph keeps pointers to its disciplines until agclose, hence static storage.
Agiddisc_t per_graph_ids = {id_open, id_map, id_alloc, id_free, id_print, id_close, id_register};

// ---- capturing Graphviz's messages --------------------------------------------------------------

std::string& captured_messages() {
  static std::string messages;
  return messages;
}

int capture_message(char* message) noexcept {
  try {
    captured_messages() += message;
  } catch (...) {
    // Out of memory while recording a diagnostic: losing the text is the only option here.
  }
  return 0;
}

// Routes Graphviz's errors and warnings into captured_messages() instead of stderr for the
// duration of one call, and resets its sticky error level.
class message_capture {
 public:
  message_capture() : previous_(agseterrf(capture_message)) {
    captured_messages().clear();
    agreseterrors();
  }
  ~message_capture() {
    agseterrf(previous_);
    agreseterrors();
  }
  message_capture(const message_capture&) = delete;
  message_capture& operator=(const message_capture&) = delete;

  // What Graphviz reported during this call, one message per line ("Error: ...").
  static std::string text() {
    std::string messages = captured_messages();
    while (!messages.empty() && (messages.back() == '\n' || messages.back() == ' ')) {
      messages.pop_back();
    }
    return messages.empty() ? std::string("no message from Graphviz") : messages;
  }

 private:
  agusererrf previous_;
};

// ---- owning wrappers ----------------------------------------------------------------------------

struct graph_closer {
  void operator()(Agraph_t* graph) const noexcept { agclose(graph); }
};
using graph_ptr = std::unique_ptr<Agraph_t, graph_closer>;

// One context for the whole process: gvContext reads the plugin configuration each time and leaks
// a few kilobytes per call, and nothing in it depends on the graph being rendered.
GVC_t* context() {
  static GVC_t* gvc = gvContext();
  if (gvc == nullptr) throw graphviz_error("Graphviz: could not create a context (gvContext)");
  return gvc;
}

graph_ptr read_graph(std::string_view dot) {
  memory_reader reader{dot};
  Agiodisc_t io = {read_byte, AgIoDisc.putstr, AgIoDisc.flush};
  Agdisc_t discipline = {&AgMemDisc, &per_graph_ids, &io};
  agreadline(1);  // the lexer's line counter is global and would go on from the previous text
  graph_ptr graph(agread(&reader, &discipline));
  if (graph == nullptr || agerrors() >= AGERR) {
    throw graphviz_error("Graphviz could not parse the DOT text: " + message_capture::text());
  }
  return graph;
}

constexpr std::string_view plugin_hint =
    "\nGraphviz's layout and render plugins are not registered: run `dot -c` as root, which "
    "writes the config6a file next to the plugins";

bool mentions_missing_plugin(std::string_view messages) {
  return messages.find("not recognized") != std::string_view::npos ||
         messages.find("unavailable") != std::string_view::npos;
}

// Graphviz's request strings: format, then renderer, so the same plugin is used on every install.
const char* graphviz_request(image_format format) {
  switch (format) {
    case image_format::svg:
      return "svg:svg:core";
    case image_format::png:
      return "png:cairo";
    case image_format::pdf:
      return "pdf:cairo";
  }
  throw graphviz_error("Graphviz: unknown image format");
}

// cairo 1.16 stamps every PDF with the wall-clock time ("/CreationDate (D:20261122023109Z)" or
// with a "+01'00'" offset). Overwriting it in place with the epoch keeps the byte offsets in the
// cross-reference table valid.
void fix_pdf_creation_date(std::string& pdf) {
  constexpr std::string_view key = "/CreationDate (D:";
  const std::size_t start = pdf.find(key);
  if (start == std::string::npos) return;
  const std::size_t first = start + key.size();
  const std::size_t end = pdf.find(')', first);
  if (end == std::string::npos) return;
  constexpr std::string_view epoch = "19700101000000";
  for (std::size_t i = first; i < end; ++i) {
    const std::size_t offset = i - first;
    char& c = pdf[i];
    if (offset < epoch.size()) {
      if (c >= '0' && c <= '9') c = epoch[offset];
    } else if (c == '-') {
      c = '+';
    } else if (c >= '0' && c <= '9') {
      c = '0';
    }
  }
}

std::map<std::string, std::string, std::less<>> attributes_of(Agraph_t* root, int kind,
                                                              void* object,
                                                              std::vector<std::string>* html) {
  std::map<std::string, std::string, std::less<>> attributes;
  for (Agsym_t* sym = agnxtattr(root, kind, nullptr); sym != nullptr;
       sym = agnxtattr(root, kind, sym)) {
    char* value = agxget(object, sym);
    attributes.emplace(sym->name, value != nullptr ? value : "");
    if (html != nullptr && value != nullptr && aghtmlstr(value) != 0) html->emplace_back(sym->name);
  }
  return attributes;
}

}  // namespace

std::string_view format_name(image_format format) noexcept {
  switch (format) {
    case image_format::svg:
      return "svg";
    case image_format::png:
      return "png";
    case image_format::pdf:
      return "pdf";
  }
  return "svg";
}

std::optional<image_format> parse_image_format(std::string_view name) noexcept {
  for (const image_format format : {image_format::svg, image_format::png, image_format::pdf}) {
    if (name == format_name(format)) return format;
  }
  return std::nullopt;
}

std::string render_dot(std::string_view dot, image_format format) {
  const std::lock_guard lock(graphviz_mutex());
  const message_capture capture;
  GVC_t* gvc = context();
  const graph_ptr graph = read_graph(dot);

  if (gvLayout(gvc, graph.get(), "dot") != 0) {
    const std::string messages = message_capture::text();
    throw graphviz_error("Graphviz could not lay out the graph: " + messages +
                         (mentions_missing_plugin(messages) ? std::string(plugin_hint) : ""));
  }
  struct layout_freer {
    GVC_t* gvc;
    Agraph_t* graph;
    ~layout_freer() { gvFreeLayout(gvc, graph); }
  } const free_layout{gvc, graph.get()};

  char* data = nullptr;
  unsigned int length = 0;
  const int status = gvRenderData(gvc, graph.get(), graphviz_request(format), &data, &length);
  struct data_freer {
    char*& data;
    ~data_freer() {
      if (data != nullptr) gvFreeRenderData(data);
    }
  } const free_data{data};
  if (status != 0 || data == nullptr) {
    const std::string messages = message_capture::text();
    throw graphviz_error("Graphviz could not render " + std::string(format_name(format)) + ": " +
                         messages +
                         (mentions_missing_plugin(messages) ? std::string(plugin_hint) : ""));
  }
  std::string bytes(data, length);
  if (format == image_format::pdf) fix_pdf_creation_date(bytes);
  return bytes;
}

dot_graph parse_dot(std::string_view dot) {
  const std::lock_guard lock(graphviz_mutex());
  const message_capture capture;
  // gvContext declares process-wide attribute defaults (a node's label is "\\N"); without it
  // a graph parsed first would read differently from one parsed after a render.
  (void)context();
  const graph_ptr graph = read_graph(dot);
  Agraph_t* root = graph.get();

  dot_graph result;
  result.name = agnameof(root);
  result.directed = agisdirected(root) != 0;
  result.strict = agisstrict(root) != 0;
  result.attributes = attributes_of(root, AGRAPH, root, nullptr);
  const std::string_view arrow = result.directed ? " -> " : " -- ";

  for (Agnode_t* node = agfstnode(root); node != nullptr; node = agnxtnode(root, node)) {
    dot_object& out = result.nodes.emplace_back();
    out.name = agnameof(node);
    out.attributes = attributes_of(root, AGNODE, node, &out.html_attributes);
  }
  for (Agnode_t* node = agfstnode(root); node != nullptr; node = agnxtnode(root, node)) {
    for (Agedge_t* edge = agfstout(root, node); edge != nullptr; edge = agnxtout(root, edge)) {
      dot_object& out = result.edges.emplace_back();
      out.name = std::string(agnameof(agtail(edge))) + std::string(arrow) + agnameof(aghead(edge));
      out.attributes = attributes_of(root, AGEDGE, edge, &out.html_attributes);
    }
  }

  // Depth first with an explicit stack: nesting depth comes from the input.
  std::vector<std::pair<Agraph_t*, std::string>> pending;
  const auto push_children = [&pending](Agraph_t* parent, const std::string& parent_name) {
    std::vector<std::pair<Agraph_t*, std::string>> children;
    for (Agraph_t* sub = agfstsubg(parent); sub != nullptr; sub = agnxtsubg(sub)) {
      children.emplace_back(sub, parent_name);
    }
    // Reversed so the first child is popped first.
    pending.insert(pending.end(), children.rbegin(), children.rend());
  };
  push_children(root, "");
  while (!pending.empty()) {
    auto [sub, parent_name] = std::move(pending.back());
    pending.pop_back();
    dot_object& out = result.subgraphs.emplace_back();
    out.name = agnameof(sub);
    out.parent = parent_name;
    out.attributes = attributes_of(root, AGRAPH, sub, &out.html_attributes);
    for (Agnode_t* node = agfstnode(sub); node != nullptr; node = agnxtnode(sub, node)) {
      out.nodes.emplace_back(agnameof(node));
    }
    push_children(sub, out.name);
  }
  return result;
}

}  // namespace chainrule::exporters
