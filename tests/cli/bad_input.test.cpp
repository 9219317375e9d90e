// SPDX-License-Identifier: MIT
// The bad-input catalogue: hostile and mistaken .chain files run through the real `chainrule`
// binary. Each must end with its exact diagnostic (file:line:column, what is wrong, what would be
// right) and a non-zero exit code, never with a crash, a hang or silence.
//
// tests/cli/bad_input/NAME.chain holds one case; NAME.expected holds "exit N" on its first line
// and then the exact stderr. The expected texts were written from the language's rules in
// docs/language.md and checked by reading each one against its file, not copied blindly from a
// run. Inputs that cannot live in a text file (NUL bytes, invalid UTF-8, binary garbage,
// 10,000 parentheses, 100 MB) are generated below at run time.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "run_chainrule.hpp"

namespace fs = std::filesystem;
using chainrule::test::process_result;
using chainrule::test::run_chainrule;
using chainrule::test::scratch_directory;
using chainrule::test::write_file;

namespace {

const fs::path catalogue_dir = fs::path(CHAINRULE_SOURCE_DIR) / "tests" / "cli" / "bad_input";

struct expectation {
  int exit_code = 0;
  std::string err;
};

expectation read_expectation(const fs::path& path) {
  const std::string text = chainrule::test::read_whole_file(path);
  const std::size_t first_line_end = text.find('\n');
  REQUIRE(first_line_end != std::string::npos);
  const std::string first = text.substr(0, first_line_end);
  REQUIRE(first.starts_with("exit "));
  return {std::stoi(first.substr(5)), text.substr(first_line_end + 1)};
}

void require_clean_failure(const process_result& r) {
  INFO("stderr:\n" << r.err);
  REQUIRE_FALSE(r.hung);
  REQUIRE(r.signal == 0);
  REQUIRE(r.exit_code == 1);
  // Nothing half-done reaches stdout when the model is rejected.
  REQUIRE(r.out.empty());
}

}  // namespace

TEST_CASE("every catalogued bad input gets its exact diagnostic", "[cli][bad_input]") {
  std::vector<fs::path> cases;
  for (const fs::directory_entry& e : fs::directory_iterator(catalogue_dir)) {
    if (e.path().extension() == ".chain") cases.push_back(e.path());
  }
  std::sort(cases.begin(), cases.end());
  REQUIRE(cases.size() >= 40);
  for (const fs::path& model : cases) {
    const std::string name = model.filename().string();
    CAPTURE(name);
    fs::path expected_path = model;
    expected_path.replace_extension(".expected");
    REQUIRE(fs::exists(expected_path));
    const expectation expected = read_expectation(expected_path);
    const process_result r = run_chainrule({"run", name}, catalogue_dir);
    CHECK_FALSE(r.hung);
    CHECK(r.signal == 0);
    CHECK(r.exit_code == expected.exit_code);
    CHECK(r.err == expected.err);
    CHECK(r.out.empty());
  }
}

// ---------------------------------------------------------------------------------------------
// Inputs generated at run time

namespace {

process_result run_generated(const std::string& bytes, const std::vector<std::string>& flags = {}) {
  const scratch_directory dir("bad-input");
  write_file(dir.path() / "model.chain", bytes);
  std::vector<std::string> args{"run", "model.chain"};
  args.insert(args.end(), flags.begin(), flags.end());
  return run_chainrule(args, dir.path());
}

std::string repeated(const std::string& unit, std::size_t count) {
  std::string out;
  out.reserve(unit.size() * count);
  for (std::size_t k = 0; k < count; ++k)
    out += unit;
  return out;
}

}  // namespace

TEST_CASE("a NUL byte is reported at its line and column", "[cli][bad_input]") {
  const process_result r =
      run_generated(std::string("input x = 1\nf = x\0 + 1\ndifferentiate f\n", 33));
  require_clean_failure(r);
  CHECK(r.err ==
        "model.chain:2:6: error: source file contains a NUL byte (is it a binary file?)\n"
        "f = x\n"
        "     ^\n");
}

TEST_CASE("binary garbage is refused at its first bad byte", "[cli][bad_input]") {
  // The start of an ELF executable: 0x7F 'E' 'L' 'F' 0x02 0x01 0x01 0x00 ...
  const std::string elf(
      "\x7f"
      "ELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00",
      16);
  const process_result r = run_generated(elf);
  require_clean_failure(r);
  CHECK(r.err.starts_with("model.chain:1:8: error: source file contains a NUL byte"));
  // Random-looking bytes without NUL: the first byte that is not UTF-8 is named.
  const process_result latin = run_generated("\xc3\x28\x90\x80 garbage");
  require_clean_failure(latin);
  CHECK(latin.err.starts_with("model.chain:1:1: error: invalid UTF-8 in source file (byte 0xC3)"));
}

TEST_CASE("invalid UTF-8 in a comment is located", "[cli][bad_input]") {
  // "café" in Latin-1: the 0xE9 byte is not followed by continuation bytes.
  const process_result r = run_generated("# caf\xe9 model\ninput x = 1\nf = x\ndifferentiate f\n");
  require_clean_failure(r);
  CHECK(r.err ==
        "model.chain:1:6: error: invalid UTF-8 in source file (byte 0xE9)\n"
        "# caf\n"
        "     ^\n");
}

TEST_CASE("10,000 nested parentheses stop at the nesting limit", "[cli][bad_input][limits]") {
  const std::string deep = "input x = 1\nf = " + repeated("(", 10000) + "x" + repeated(")", 10000) +
                           "\ndifferentiate f\n";
  const process_result r = run_generated(deep);
  require_clean_failure(r);
  // The 257th '(' is column 4 + 257 = 261 of line 2.
  CHECK(
      r.err.starts_with("model.chain:2:261: error: brackets nest too deeply (the limit is 256 "
                        "levels)\n"));
  CHECK(
      r.err.ends_with("note: expected fewer levels; give inner parts names of their own "
                      "(chainrule --max-nesting raises the limit)\n"));
  SECTION("--max-nesting raises the limit, and 10,000 levels then parse without a stack overflow") {
    // Also under AddressSanitizer, whose frames are several times larger: the command runs on a
    // thread with a 512 MiB stack (cli/src/main.cpp).
    const process_result ok = run_generated(deep, {"--max-nesting", "10000"});
    INFO(ok.err);
    CHECK(ok.exit_code == 0);
    CHECK(ok.out.find("f = ") != std::string::npos);
  }
  SECTION("--max-nesting lowers it") {
    const process_result low =
        run_generated("input x = 1\nf = ((x))\ndifferentiate f\n", {"--max-nesting", "1"});
    require_clean_failure(low);
    CHECK(
        low.err.starts_with("model.chain:2:6: error: brackets nest too deeply (the limit is 1 "
                            "levels)\n"));
  }
}

TEST_CASE("a 100 MB file is refused before it is read", "[cli][bad_input][limits]") {
  const scratch_directory dir("huge");
  {
    std::ofstream out(dir.path() / "huge.chain", std::ios::binary);
    const std::string line = repeated("# padding padding padding padding padding padding pad\n", 1);
    REQUIRE(line.size() == 54);
    const std::string block = repeated(line, 100'000);  // 5.4 MB
    for (int k = 0; k < 19; ++k)
      out << block;
    out << "input x = 1\nf = x\ndifferentiate f\n";
  }
  REQUIRE(fs::file_size(dir.path() / "huge.chain") > 100'000'000);
  const auto started = std::chrono::steady_clock::now();
  const process_result r = run_chainrule({"run", "huge.chain"}, dir.path());
  const auto took = std::chrono::steady_clock::now() - started;
  require_clean_failure(r);
  CHECK(r.err ==
        "huge.chain: error: source file is too large (102600034 bytes; the limit is 16777216 "
        "bytes, 16 MiB)\n"
        "note: expected a smaller file; chainrule --max-file-size raises the limit\n");
  // Refused from its size, not after reading 100 MB.
  CHECK(took < std::chrono::seconds(5));
  SECTION("--max-file-size lowers the limit") {
    const process_result small =
        run_generated("input x = 1\nf = x\ndifferentiate f\n", {"--max-file-size", "10"});
    require_clean_failure(small);
    CHECK(small.err ==
          "model.chain: error: source file is too large (34 bytes; the limit is 10 bytes)\n"
          "note: expected a smaller file; chainrule --max-file-size raises the limit\n");
  }
}

// ---------------------------------------------------------------------------------------------
// Limits that bound memory and time

TEST_CASE("limits on nodes, work, trace size and precision have flags", "[cli][limits]") {
  SECTION("--max-nodes") {
    // 50 declarations + 50 references to them + 1 sum = 101 nodes.
    const process_result r =
        run_generated("input x[50] = 1\nf = sum(x)\ndifferentiate f\n", {"--max-nodes", "100"});
    require_clean_failure(r);
    CHECK(r.err ==
          "model.chain: error: the model has 101 graph nodes once vectors are written out; the "
          "limit is 100\n"
          "note: expected a smaller model; chainrule --max-nodes raises the limit\n");
    CHECK(run_generated("input x[50] = 1\nf = sum(x)\ndifferentiate f\n", {"--max-nodes", "101"})
              .exit_code == 0);
  }
  SECTION("steps times nodes (--max-work), by default 10^9") {
    // w, its reference, the literal 2 and the power: 4 nodes; 10^9 steps make 4 * 10^9.
    const process_result r =
        run_generated("param w = 1\nf = w^2\ntrain minimize f using sgd for 1000000000 steps\n");
    require_clean_failure(r);
    CHECK(r.err ==
          "model.chain:3:1: error: 1000000000 training steps over 4 graph nodes is 4000000000 "
          "node evaluations; the limit is 1000000000\n"
          "train minimize f using sgd for 1000000000 steps\n"
          "^~~~~\n"
          "note: expected fewer steps or a smaller model; chainrule --max-work raises the limit\n");
  }
  SECTION("batch and validation rows count in --max-work") {
    // x, w, and the expression nodes w, x, w*x, 2 and ^: 7 nodes. 10 full batches of the 3 rows
    // of a are 30 rows, and 5 validations (every 2 updates) of b's 1 row 5 more: 35 x 7 = 245.
    const std::string model =
        "input x = 0\nparam w = 1\nf = (w*x)^2\ndata d(x) = [[1], [2], [3], [4]]\n"
        "split d into a, b rows 3\n"
        "train minimize f using sgd for 10 steps on a batch full validate on b every 2 steps\n";
    const process_result r = run_generated(model, {"--max-work", "244"});
    require_clean_failure(r);
    CHECK(r.err.starts_with(
        "model.chain:6:1: error: 10 training steps (30 rows in batches of 3, plus 5 validations "
        "of 1 row) over 7 graph nodes is 245 node evaluations; the limit is 244\n"));
    CHECK(run_generated(model, {"--max-work", "245"}).exit_code == 0);
  }
  SECTION("traced steps times nodes (--max-trace), by default 10^7") {
    const process_result r = run_generated(
        "param w = 1\nf = w^2\ntrain minimize f using sgd for 3000000 steps trace all\n");
    require_clean_failure(r);
    CHECK(
        r.err.starts_with("model.chain:3:1: error: tracing 3000000 steps over 4 graph nodes "
                          "records 12000000 node entries; the limit is 10000000\n"));
    // first, last and every 1000th step: 3000 steps (the first is not a multiple of 1000).
    const process_result every = run_generated(
        "param w = 1\nf = w^2\ntrain minimize f using sgd for 3000000 steps trace first, every "
        "1000\n",
        {"--max-trace", "12000", "--max-work", "1"});
    require_clean_failure(every);
    CHECK(
        every.err.starts_with("model.chain:3:1: error: 3000000 training steps over 4 graph "
                              "nodes is 12000000 node evaluations; the limit is 1\n"));
    const process_result traced = run_generated(
        "param w = 1\nf = w^2\ntrain minimize f using sgd for 3000000 steps trace first, every "
        "1000\n",
        {"--max-trace", "12000"});
    require_clean_failure(traced);
    CHECK(
        traced.err.starts_with("model.chain:3:1: error: tracing 3001 steps over 4 graph nodes "
                               "records 12004 node entries; the limit is 12000\n"));
  }
  SECTION("one show derivative written out (--max-shown-size)") {
    // d(sin(x))/d(x) is cos(x): one operation and one name, 2 by the count's definition.
    const std::string model = "input x = 0\nf = sin(x)\nshow d(f)/d(x)\ndifferentiate f\n";
    const process_result r = run_generated(model, {"--max-shown-size", "1"});
    require_clean_failure(r);
    CHECK(r.err ==
          "model.chain:3:6: error: cannot show d(f)/d(x): written out, its simplified form has 2 "
          "numbers, names and operations, more than the 1 allowed\n"
          "show d(f)/d(x)\n"
          "     ^~~~~~~~~\n"
          "note: expected a lower order, or the derivative of a named intermediate quantity "
          "(named quantities are written as their names); chainrule --max-shown-size raises the "
          "limit\n");
    CHECK(run_generated(model, {"--max-shown-size", "2"}).exit_code == 0);
  }
  SECTION("--max-precision lowers the language's 10000 digits") {
    const process_result r = run_generated("precision 200\ninput x = 1\nf = x\ndifferentiate f\n",
                                           {"--max-precision", "100"});
    require_clean_failure(r);
    CHECK(r.err ==
          "model.chain:1:1: error: precision 200 is over this run's limit of 100 digits\n"
          "precision 200\n"
          "^~~~~~~~~\n"
          "note: expected at most 100 significant digits or 'double'; chainrule --max-precision "
          "changes the limit\n");
    const process_result flag = run_generated("input x = 1\nf = x\ndifferentiate f\n",
                                              {"--precision", "500", "--max-precision", "100"});
    CHECK(flag.exit_code == 2);
    CHECK(flag.err ==
          "chainrule: error: --precision 500: over this run's limit of 100 digits "
          "(--max-precision changes it)\n");
  }
  SECTION("limit flags are checked") {
    const process_result r =
        run_generated("input x = 1\nf = x\ndifferentiate f\n", {"--max-nesting", "0"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--max-nesting") != std::string::npos);
  }
}

TEST_CASE("check and derive load a model within the same limits as run", "[cli][limits]") {
  const scratch_directory dir("command-limits");
  // A billion updates of a 4-node model: `check` used to train them and ran out of memory
  // recording the loss history; now it stops where `run` does, before training.
  write_file(dir.path() / "long.chain",
             "param w = 1\nf = w^2\ntrain minimize f using sgd for 1000000000 steps\n");
  write_file(dir.path() / "answers.txt", "f = 1\n");
  const process_result checked = run_chainrule({"check", "long.chain", "answers.txt"}, dir.path());
  require_clean_failure(checked);
  CHECK(checked.err ==
        "long.chain:3:1: error: 1000000000 training steps over 4 graph nodes is 4000000000 node "
        "evaluations; the limit is 1000000000\n"
        "train minimize f using sgd for 1000000000 steps\n"
        "^~~~~\n"
        "note: expected fewer steps or a smaller model; chainrule --max-work raises the limit\n");

  // x, w, and the expression nodes w, x, w*x, 2 and ^: 7 graph nodes, refused under --max-nodes 6
  // by every command that loads the model.
  write_file(dir.path() / "small.chain",
             "input x = 2\nparam w = 3\nf = (w*x)^2\ntrain minimize f using sgd for 1 step\n");
  const std::string too_many =
      "small.chain: error: the model has 7 graph nodes once vectors are written out; the limit "
      "is 6\n";
  const process_result derived =
      run_chainrule({"derive", "small.chain", "f", "w", "--max-nodes", "6"}, dir.path());
  require_clean_failure(derived);
  CHECK(derived.err.starts_with(too_many));
  const process_result checked_small =
      run_chainrule({"check", "small.chain", "answers.txt", "--max-nodes", "6"}, dir.path());
  require_clean_failure(checked_small);
  CHECK(checked_small.err.starts_with(too_many));
  CHECK(run_chainrule({"derive", "small.chain", "f", "w", "--max-nodes", "7"}, dir.path())
            .exit_code == 0);

  // derive trains nothing, so the training limits are not its options.
  const process_result work =
      run_chainrule({"derive", "small.chain", "f", "w", "--max-work", "5"}, dir.path());
  CHECK(work.exit_code == 2);
  CHECK(work.err.find("--max-work") != std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Determinism and injection through the command line

namespace {

const std::vector<std::string> every_output{
    "--latex", "out.tex", "--pdf",   "out.pdf",     "--dot",     "out.dot", "--svg",
    "out.svg", "--png",   "out.png", "--pdf-graph", "graph.pdf", "--json",  "out.json"};

bool have_pdflatex() {
  return std::system("command -v pdflatex >/dev/null 2>&1") == 0;
}

}  // namespace

TEST_CASE("two runs write byte-identical outputs", "[cli][determinism]") {
  const std::string training_model =
      "# XOR-ish neuron trained on a data set\n"
      "precision 30\n"
      "input x[2] = [0, 0]\n"
      "target t = 0\n"
      "param w[2] = [0.5, -0.25]\n"
      "param b = 0.1\n"
      "y = sigmoid(w @ x + b)\n"
      "E = 1/2*(t - y)^2\n"
      "data d(x, t) = [[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0]]\n"
      "train minimize E using adam(lr = 0.1) for 2 epochs on d trace first, last\n";
  std::vector<std::string> outputs{"out.tex", "out.dot",   "out.svg",
                                   "out.png", "graph.pdf", "out.json"};
  std::vector<std::string> flags = every_output;
  if (have_pdflatex()) {
    outputs.emplace_back("out.pdf");
  } else {
    flags.erase(flags.begin() + 2, flags.begin() + 4);  // no --pdf out.pdf
  }
  for (const std::string& model :
       {std::string("mazur"), std::string("training"), std::string("early_stopping")}) {
    DYNAMIC_SECTION(model) {
      const scratch_directory first("determinism-a");
      const scratch_directory second("determinism-b");
      std::vector<std::string> stdout_texts;
      for (const scratch_directory* dir : {&first, &second}) {
        if (model != "training") {
          // A shuffled split, validation and a stop with restore: all of it seeded or exact.
          fs::copy_file(fs::path(CHAINRULE_SOURCE_DIR) / "examples" / (model + ".chain"),
                        dir->path() / "model.chain");
        } else {
          write_file(dir->path() / "model.chain", training_model);
        }
        std::vector<std::string> args{"render", "model.chain"};
        args.insert(args.end(), flags.begin(), flags.end());
        const process_result r = run_chainrule(args, dir->path());
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        const process_result text = run_chainrule({"run", "model.chain"}, dir->path());
        REQUIRE(text.exit_code == 0);
        stdout_texts.push_back(text.out);
      }
      CHECK(stdout_texts[0] == stdout_texts[1]);
      for (const std::string& file : outputs) {
        INFO(file);
        const std::string a = chainrule::test::read_whole_file(first.path() / file);
        const std::string b = chainrule::test::read_whole_file(second.path() / file);
        CHECK(!a.empty());
        CHECK(a == b);
      }
    }
  }
}

TEST_CASE("titles and file names cannot inject LaTeX, DOT or HTML", "[cli][security]") {
  const scratch_directory dir("inject");
  // The title comes from the first comment line; every trick in one line.
  const std::string hostile_title =
      "\\input{/etc/passwd} \\immediate\\write18{touch pwned} \\catcode`\\^^M=13 }{ "
      "</TD></TR></TABLE>> <script>alert(1)</script> \"quoted\" 100% $x$ #1 &";
  write_file(dir.path() / "model.chain", "# " + hostile_title +
                                             "\ninput x = 2\nparam w = 3\nf = w*x\n"
                                             "differentiate f\n");
  std::vector<std::string> args{"render", "model.chain"};
  args.insert(args.end(), every_output.begin(), every_output.end());
  if (!have_pdflatex()) args.erase(args.begin() + 4, args.begin() + 6);
  const process_result r = run_chainrule(args, dir.path());
  INFO(r.err);
  REQUIRE(r.exit_code == 0);

  const std::string tex = chainrule::test::read_whole_file(dir.path() / "out.tex");
  // Escaped, "100%" reads 100\% and "#1" reads \#1; raw, they would be TeX syntax.
  for (const char* raw : {"\\input{/etc", "\\write18", "\\catcode`", "\\immediate", "100%",
                          "$x$ #1", " #1", "<script>"}) {
    INFO(raw);
    CHECK(tex.find(raw) == std::string::npos);
  }
  CHECK(tex.find("\\textbackslash{}input\\{/etc/passwd\\}") != std::string::npos);
  CHECK_FALSE(fs::exists(dir.path() / "pwned"));

  const std::string dot = chainrule::test::read_whole_file(dir.path() / "out.dot");
  const std::string svg = chainrule::test::read_whole_file(dir.path() / "out.svg");
  CHECK(svg.find("<script>") == std::string::npos);
  // The title's markup is text inside the graph's own HTML label.
  CHECK(dot.find("&lt;/TD&gt;&lt;/TR&gt;&lt;/TABLE&gt;&gt; &lt;script&gt;") != std::string::npos);
  CHECK(svg.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);

  SECTION("--title gets the same treatment") {
    const process_result titled = run_chainrule(
        {"render", "model.chain", "--title", "}\\end{document}\\input{x}", "--latex", "t.tex"},
        dir.path());
    REQUIRE(titled.exit_code == 0);
    const std::string t = chainrule::test::read_whole_file(dir.path() / "t.tex");
    CHECK(t.find("}\\end{document}\\input") == std::string::npos);
    CHECK(t.find("\\textbackslash{}end\\{document\\}") != std::string::npos);
  }
  SECTION("a file name full of TeX specials becomes a plain title") {
    const std::string name = "a_b%c&d$e#{f}~^\\input.chain";
    write_file(dir.path() / name, "input x = 2\nf = 3*x\ndifferentiate f\n");
    const process_result named = run_chainrule({"render", name, "--latex", "n.tex"}, dir.path());
    REQUIRE(named.exit_code == 0);
    const std::string t = chainrule::test::read_whole_file(dir.path() / "n.tex");
    CHECK(t.find(name) == std::string::npos);
    CHECK(t.find("a\\_b\\%c\\&d\\$e\\#\\{f\\}") != std::string::npos);
  }
}
