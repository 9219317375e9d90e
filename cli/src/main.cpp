// SPDX-License-Identifier: MIT
// `chainrule`: run a .chain model and print its worked example, or render it as LaTeX, PDF,
// Graphviz pictures and JSON.
//
// Exit codes: 0 success, 1 the model is wrong or could not be run or rendered, 2 the command
// line is wrong (unknown flag, bad value, an output that would replace the input).
#include <pthread.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "chainrule/exporters/dot.hpp"
#include "chainrule/exporters/graphviz.hpp"
#include "chainrule/exporters/json.hpp"
#include "chainrule/exporters/latex.hpp"
#include "chainrule/exporters/output_file.hpp"
#include "chainrule/exporters/pdflatex.hpp"
#include "chainrule/exporters/text.hpp"
#include "chainrule/lang/diagnostics.hpp"
#include "check_command.hpp"
#include "derive_command.hpp"
#include "pipeline.hpp"

#ifndef CHAINRULE_VERSION
#error "CHAINRULE_VERSION must be defined by the build"
#endif

namespace {

namespace ex = chainrule::exporters;
using chainrule::cli::number_settings;

constexpr int exit_ok = 0;
constexpr int exit_model = 1;
constexpr int exit_usage = 2;

/// A command line that parses but asks for something impossible.
class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct common_options {
  std::string file;
  std::string precision;
  unsigned decimals = 0;
  unsigned digits = 0;
  std::string title;
  CLI::Option* precision_option = nullptr;
  CLI::Option* decimals_option = nullptr;
  CLI::Option* digits_option = nullptr;
  CLI::Option* title_option = nullptr;
  bool certify = false;
  unsigned certify_max_digits = 1000;
  chainrule::cli::run_limits limits;
  bool progress = false;

  [[nodiscard]] number_settings numbers() const {
    number_settings n;
    if (precision_option->count() > 0) n.precision = precision;
    if (decimals_option->count() > 0) n.decimals = decimals;
    if (digits_option->count() > 0) n.digits = digits;
    if (certify) n.certify_max_digits = certify_max_digits;
    return n;
  }
  [[nodiscard]] std::optional<std::string> shown_title() const {
    if (title_option->count() > 0) return title;
    return std::nullopt;
  }
};

struct render_options {
  std::string latex, pdf, dot, svg, png, pdf_graph, json;
  bool fragment = false;
  bool beamer = false;
  std::string notation = "model";
  std::vector<std::string> highlight;
};

const CLI::Validator precision_value(
    [](std::string& value) -> std::string {
      if (value == "double") return {};
      const bool digits_only =
          !value.empty() && value.find_first_not_of("0123456789") == std::string::npos;
      if (digits_only && value.size() <= 5) {
        const unsigned long n = std::stoul(value);
        if (n >= 10 && n <= 10000) return {};
      }
      return "expected 'double' or a number of significant digits from 10 to 10000, got '" + value +
             "'";
    },
    "N|double", "precision");

void add_training_limits(CLI::App& command, chainrule::cli::run_limits& limits,
                         const std::string& group) {
  command
      .add_option("--max-work", limits.max_work,
                  "Refuse training runs of more than this many node evaluations: rows run "
                  "(steps times batch rows, plus validation rows) times nodes (default "
                  "1000000000)")
      ->check(CLI::PositiveNumber)
      ->group(group);
  command
      .add_option("--max-trace", limits.max_trace,
                  "Refuse worked examples recording more than this many node entries, traced "
                  "steps times nodes (default 10000000)")
      ->check(CLI::PositiveNumber)
      ->group(group);
}

// Which limits besides the file, precision and graph size a command has a use for.
struct limit_groups {
  bool training = false;  ///< work and trace: run, render, check
  bool shown = false;     ///< a symbolic derivative written out: run, render, derive
};

// Limits on what one run may use (docs/language.md "Limits"): a file from a stranger gets a clear
// error instead of exhausting memory, stack or time.
void add_limits(CLI::App& command, chainrule::cli::run_limits& limits, limit_groups groups) {
  const std::string group = "Limits";
  command
      .add_option("--max-file-size", limits.parse.max_file_bytes,
                  "Refuse model files larger than this many bytes (default 16777216, 16 MiB)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 32))
      ->group(group);
  // Each level costs stack; the command runs on a thread with a stack sized for 10,000 (main).
  command
      .add_option("--max-nesting", limits.parse.max_nesting_depth,
                  "Refuse parentheses, brackets and calls nested deeper than this (default 256, "
                  "at most 10000)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{10000}))
      ->group(group);
  command
      .add_option("--max-precision", limits.max_precision_digits,
                  "Refuse a precision of more significant digits than this (default 10000, the "
                  "language's own maximum)")
      ->check(CLI::Range(10u, 10000u))
      ->group(group);
  command
      .add_option("--max-nodes", limits.max_nodes,
                  "Refuse models with more graph nodes than this, once vectors are written out "
                  "(default 2000000)")
      ->check(CLI::PositiveNumber)
      ->group(group);
  if (groups.training) add_training_limits(command, limits, group);
  if (groups.shown) {
    command
        .add_option("--max-shown-size", limits.max_shown_size,
                    "Refuse a symbolic derivative that written out has more than this many "
                    "numbers, names and operations (default 250000)")
        ->check(CLI::PositiveNumber)
        ->group(group);
  }
}

void add_common(CLI::App& command, common_options& o) {
  command.add_option("FILE", o.file, "The .chain model")->required()->check(CLI::ExistingFile);
  o.precision_option =
      command
          .add_option("--precision", o.precision,
                      "Working precision: significant decimal digits (10 to 10000) or 'double'; "
                      "replaces the file's `precision`")
          ->check(precision_value);
  o.decimals_option = command
                          .add_option("--decimals", o.decimals,
                                      "Show numbers rounded to N decimals (0 to 10000); "
                                      "replaces the file's `display`")
                          ->check(CLI::Range(0u, 10000u));
  o.digits_option = command
                        .add_option("--digits", o.digits,
                                    "Show numbers rounded to N significant digits (1 to 10000); "
                                    "replaces the file's `display`")
                        ->check(CLI::Range(1u, 10000u))
                        ->excludes(o.decimals_option);
  o.decimals_option->excludes(o.digits_option);
  o.title_option = command.add_option(
      "--title", o.title, "Title of the worked example (default: the file's first comment line)");
  command.add_flag("--certify", o.certify,
                   "Guarantee every digit shown: run again at rising precision until consecutive "
                   "runs agree on every number (docs/certify.md); a digit that cannot be "
                   "certified is not shown");
  command
      .add_option("--certify-max-digits", o.certify_max_digits,
                  "The highest precision --certify tries, in significant digits (default 1000)")
      ->check(CLI::Range(11u, 10000u));
  add_limits(command, o.limits, {.training = true, .shown = true});
  command.add_flag("--progress", o.progress,
                   "Show the training's progress (update, loss) on stderr while it runs");
}

// The progress display goes to stderr only, so stdout and every output file stay the same with
// or without it. On a terminal one line is rewritten in place; elsewhere (a log file, CI) each
// report is its own line.
// True while a terminal's progress line waits for its newline (training stopped early, or
// failed, before its last update).
bool progress_line_open = false;

chainrule::cli::run_feedback feedback_for(const common_options& o) {
  chainrule::cli::run_feedback feedback;
  if (!o.progress) return feedback;
  const bool terminal = isatty(STDERR_FILENO) != 0;
  feedback.progress = [terminal](std::uint64_t update, std::uint64_t total,
                                 const std::string& loss) {
    progress_line_open = terminal && update < total;
    std::cerr << (terminal ? "\r" : "") << "training: update " << update << " of " << total
              << ", loss " << loss << (progress_line_open ? "" : "\n") << std::flush;
  };
  return feedback;
}

// Ends the progress line when the run is over, however it ended.
struct progress_line_guard {
  progress_line_guard() = default;
  progress_line_guard(const progress_line_guard&) = delete;
  progress_line_guard& operator=(const progress_line_guard&) = delete;
  ~progress_line_guard() {
    if (progress_line_open) std::cerr << '\n' << std::flush;
    progress_line_open = false;
  }
};

void print_warnings(const std::vector<chainrule::lang::diagnostic>& warnings) {
  if (!warnings.empty()) std::cerr << chainrule::lang::format(warnings);
}

void print_certification(const std::vector<std::string>& report) {
  for (const std::string& line : report)
    std::cerr << line << '\n';
}

int run_command(const common_options& o, std::size_t width) {
  const chainrule::cli::model_run r = [&] {
    const progress_line_guard line;
    return chainrule::cli::run_model(o.file, o.numbers(), o.shown_title(), o.limits,
                                     feedback_for(o));
  }();
  print_warnings(r.warnings);
  print_certification(r.certify_report);
  ex::text_options text;
  text.width = width;
  std::cout << ex::to_text(r.document, text);
  std::cout.flush();
  return std::cout ? exit_ok : exit_model;
}

int render_command(const common_options& o, const render_options& r) {
  const bool graph = !r.dot.empty() || !r.svg.empty() || !r.png.empty() || !r.pdf_graph.empty();
  if (r.latex.empty() && r.pdf.empty() && r.json.empty() && !graph) {
    throw usage_error(
        "render: nothing to write; give at least one of --latex, --pdf, --dot, --svg, --png, "
        "--pdf-graph, --json");
  }
  if (!r.highlight.empty() && !graph) {
    throw usage_error("--highlight draws on the graph: add --dot, --svg, --png or --pdf-graph");
  }
  const chainrule::cli::model_run run = [&] {
    const progress_line_guard line;
    return chainrule::cli::run_model(o.file, o.numbers(), o.shown_title(), o.limits,
                                     feedback_for(o));
  }();
  print_warnings(run.warnings);
  print_certification(run.certify_report);

  ex::output_set outputs(run.inputs);
  // Refuse a bad destination before any slow work (pdflatex, Graphviz).
  for (const std::string* path :
       {&r.latex, &r.pdf, &r.dot, &r.svg, &r.png, &r.pdf_graph, &r.json}) {
    if (!path->empty()) outputs.check(*path);
  }

  ex::latex_options latex;
  latex.notation = *ex::parse_notation(r.notation);
  if (!r.latex.empty()) {
    ex::latex_options written = latex;
    written.form = r.beamer     ? ex::latex_form::beamer
                   : r.fragment ? ex::latex_form::fragment
                                : ex::latex_form::standalone;
    outputs.stage(r.latex, ex::to_latex(run.document, written));
  }
  if (!r.json.empty()) outputs.stage(r.json, ex::to_json(run.document));
  if (graph) {
    ex::dot_options dot_options;
    dot_options.highlight = r.highlight;
    std::string dot;
    try {
      dot = ex::to_dot(run.document, dot_options);
    } catch (const std::invalid_argument& e) {
      throw usage_error(e.what());
    }
    if (!r.dot.empty()) outputs.stage(r.dot, dot);
    if (!r.svg.empty()) outputs.stage(r.svg, ex::render_dot(dot, ex::image_format::svg));
    if (!r.png.empty()) outputs.stage(r.png, ex::render_dot(dot, ex::image_format::png));
    if (!r.pdf_graph.empty()) {
      outputs.stage(r.pdf_graph, ex::render_dot(dot, ex::image_format::pdf));
    }
  }
  if (!r.pdf.empty()) {
    ex::latex_options standalone = latex;
    standalone.form = ex::latex_form::standalone;
    outputs.stage(r.pdf, ex::compile_pdf(ex::to_latex(run.document, standalone)));
  }
  const std::vector<std::filesystem::path> written = outputs.destinations();
  outputs.commit();
  for (const std::filesystem::path& p : written)
    std::cout << "wrote " << p.string() << '\n';
  return exit_ok;
}

void error(std::string_view message) {
  std::cerr << "chainrule: error: " << message << '\n';
}

}  // namespace

int run_chainrule(int argc, char** argv) {
  CLI::App app{
      "chainrule: reverse-mode automatic differentiation that shows its work.\n"
      "Runs a .chain model (forward pass, chain rule, updates) and prints or renders the\n"
      "worked example at any precision.",
      "chainrule"};
  app.set_version_flag("--version", "chainrule " CHAINRULE_VERSION);
  app.require_subcommand(1, 1);
  app.footer(
      "Exit codes: 0 success, 1 the model has an error or could not be run or rendered,\n"
      "2 the command line is wrong.\n"
      "Examples:\n"
      "  chainrule run examples/mazur.chain\n"
      "  chainrule run examples/mazur.chain --precision 100 --digits 60\n"
      "  chainrule render examples/mazur.chain --latex mazur.tex --pdf mazur.pdf --svg mazur.svg\n"
      "  chainrule check examples/mazur.chain answers.txt --pdf feedback.pdf");
  app.failure_message([](const CLI::App* failed, const CLI::Error& e) {
    // Point at the help of the subcommand being parsed, if any.
    const std::vector<CLI::App*> commands = failed->get_subcommands();
    const std::string command = commands.empty() ? "" : commands.front()->get_name() + " ";
    return fmt::format("chainrule: error: {}\nRun 'chainrule {}--help' for the options.\n",
                       e.what(), command);
  });

  common_options run_common;
  std::size_t width = 100;
  CLI::App* run = app.add_subcommand(
      "run",
      "Run the model and print the worked example as text: given values, forward pass, "
      "error, chain rule for every parameter, updates, values and gradients, loss history");
  add_common(*run, run_common);
  run->add_option("--width", width,
                  "Derivations wider than this many columns get one '=' per line (default 100)")
      ->check(CLI::Range(std::size_t{20}, std::size_t{100000}));

  common_options render_common;
  render_options render_opts;
  CLI::App* render = app.add_subcommand(
      "render",
      "Run the model and write the worked example and its graph to files. Outputs are "
      "written only when everything succeeded, and never over the model file");
  add_common(*render, render_common);
  CLI::Option* latex_option = render->add_option(
      "--latex", render_opts.latex, "Write the worked example as LaTeX (a standalone document)");
  CLI::Option* fragment_option =
      render
          ->add_flag("--fragment", render_opts.fragment,
                     "With --latex: write a fragment without preamble, to \\input into a handout "
                     "or into one Beamer frame with [allowframebreaks]")
          ->needs(latex_option);
  render
      ->add_flag("--beamer", render_opts.beamer,
                 "With --latex: write Beamer frames (one per section and per gradient), to "
                 "\\input between the frames of a Beamer document")
      ->needs(latex_option)
      ->excludes(fragment_option);
  render
      ->add_option("--notation", render_opts.notation,
                   "Symbols: model (the file's names and symbols), mazur (net/out), layered "
                   "(z/a with layer superscripts), ho (h/o)")
      ->check(CLI::IsMember({"model", "mazur", "layered", "ho"}));
  render->add_option("--pdf", render_opts.pdf,
                     "Write the worked example as PDF (runs pdflatex, which must be on PATH)");
  render->add_option("--dot", render_opts.dot, "Write the computational graph as Graphviz DOT");
  render->add_option("--svg", render_opts.svg, "Write the computational graph as SVG");
  render->add_option("--png", render_opts.png, "Write the computational graph as PNG");
  render->add_option("--pdf-graph", render_opts.pdf_graph, "Write the computational graph as PDF");
  render->add_option("--json", render_opts.json, "Write the whole trace as JSON");
  render
      ->add_option("--highlight", render_opts.highlight,
                   "Colour the chain-rule paths from the loss to these quantities in the graph "
                   "(repeat or separate with commas, e.g. --highlight w1,w5)")
      ->delimiter(',');

  std::string check_model;
  std::string check_answers;
  chainrule::cli::check_outputs check_files;
  CLI::App* check = app.add_subcommand(
      "check",
      "Check a student's answers (one 'name = number' per line) against the exact worked "
      "example: correct, rounding drift, wrong here (with a likely cause) or following from an "
      "earlier error; a summary and a score. Exit 0 when the answers were checked, whatever "
      "the marks (docs/check.md)");
  check->add_option("MODEL", check_model, "The .chain model")->required()->check(CLI::ExistingFile);
  check->add_option("ANSWERS", check_answers, "The student's answers")
      ->required()
      ->check(CLI::ExistingFile);
  check->add_option("--json", check_files.json, "Also write the report as JSON");
  check->add_option("--latex", check_files.latex, "Also write the feedback sheet as LaTeX");
  check->add_option("--pdf", check_files.pdf,
                    "Also write the feedback sheet as PDF (runs pdflatex, which must be on PATH)");

  chainrule::cli::run_limits check_limits;
  add_limits(*check, check_limits, {.training = true});

  chainrule::cli::derive_options derive_opts;
  CLI::App* derive = chainrule::cli::add_derive_command(app, derive_opts);
  add_limits(*derive, derive_opts.limits, {.shown = true});

  // CLI11 would only say "A subcommand is required" for a misspelt command or option.
  if (argc > 1) {
    const std::string_view first = argv[1];
    const bool known = first == "run" || first == "derive" || first == "render" ||
                       first == "check" || first == "-h" || first == "--help" ||
                       first == "--version";
    if (!known) {
      error(first.starts_with("-")
                ? fmt::format("unknown option '{}'; give a command first: 'run', 'render', "
                              "'check' or 'derive'",
                              first)
                : fmt::format("unknown command '{}'; the commands are 'run', 'render', 'check' "
                              "and 'derive'",
                              first));
      std::cerr << "Run 'chainrule --help' for the options.\n";
      return exit_usage;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    (void)app.exit(e);
    return exit_usage;
  }

  try {
    if (derive->parsed()) return chainrule::cli::derive_command(derive_opts);
    if (run->parsed()) return run_command(run_common, width);
    if (check->parsed()) {
      return chainrule::cli::check_command(check_model, check_answers, check_files, check_limits);
    }
    return render_command(render_common, render_opts);
  } catch (const chainrule::lang::model_error& e) {
    std::cerr << e.what();
    return exit_model;
  } catch (const usage_error& e) {
    error(e.what());
    return exit_usage;
  } catch (const chainrule::cli::settings_error& e) {
    error(e.what());
    return exit_usage;
  } catch (const ex::output_error& e) {
    error(e.what());
    return exit_usage;
  } catch (const std::exception& e) {
    // pdflatex, Graphviz, symbol and I/O failures: the model ran but could not be rendered.
    error(e.what());
    return exit_model;
  }
}

namespace {

// The parser, checker and expression builders descend once per bracket level, and
// --max-nesting allows up to 10,000 levels. The main thread's stack (often 8 MiB) holds that
// in an optimised build but not with AddressSanitizer's larger frames, so the whole command
// runs on a thread whose stack is sized for the limit. Only the pages actually used are ever
// committed.
constexpr std::size_t command_stack_bytes = std::size_t{512} << 20;

struct command_line {
  int argc;
  char** argv;
  int exit_code = exit_model;
};

void* run_on_thread(void* arguments) {
  auto* command = static_cast<command_line*>(arguments);
  command->exit_code = run_chainrule(command->argc, command->argv);
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  command_line command{argc, argv};
  pthread_attr_t attributes;
  if (pthread_attr_init(&attributes) != 0) return run_chainrule(argc, argv);
  pthread_t thread;
  const bool started = pthread_attr_setstacksize(&attributes, command_stack_bytes) == 0 &&
                       pthread_create(&thread, &attributes, run_on_thread, &command) == 0;
  pthread_attr_destroy(&attributes);
  // Without the thread the default stack still serves every nesting up to a few thousand.
  if (!started) return run_chainrule(argc, argv);
  pthread_join(thread, nullptr);
  return command.exit_code;
}
