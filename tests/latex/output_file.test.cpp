// SPDX-License-Identifier: MIT
// Atomic, all-or-nothing output files.
#include <stdlib.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "chainrule/exporters/output_file.hpp"

namespace fs = std::filesystem;
using chainrule::exporters::output_error;
using chainrule::exporters::output_set;
using chainrule::exporters::read_file;
using chainrule::exporters::write_file_atomically;

namespace {

struct scratch_directory {
  fs::path path;
  scratch_directory() {
    std::string pattern = (fs::temp_directory_path() / "chainrule-output-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~scratch_directory() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  [[nodiscard]] std::size_t entries() const {
    return static_cast<std::size_t>(
        std::distance(fs::directory_iterator(path), fs::directory_iterator()));
  }
};

void write(const fs::path& p, const std::string& s) {
  std::ofstream(p, std::ios::binary) << s;
}

}  // namespace

TEST_CASE("outputs are written whole or not at all", "[output]") {
  scratch_directory dir;
  const fs::path out = dir.path / "out.tex";

  SECTION("a new file, and no temporary left behind") {
    write_file_atomically(out, "hello");
    CHECK(read_file(out) == "hello");
    CHECK(dir.entries() == 1);
  }
  SECTION("replacing a file keeps its permissions") {
    write(out, "old");
    fs::permissions(out, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
    write_file_atomically(out, "new");
    CHECK(read_file(out) == "new");
    CHECK(fs::status(out).permissions() ==
          (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read));
  }
  SECTION("a run that fails before commit leaves existing outputs untouched") {
    write(out, "old tex");
    write(dir.path / "out.pdf", "old pdf");
    {
      output_set outputs;
      outputs.stage(out, "new tex");
      CHECK(dir.entries() == 3);  // the temporary sits beside the destination
      // ... a later step fails here, so commit() is never reached.
    }
    CHECK(read_file(out) == "old tex");
    CHECK(read_file(dir.path / "out.pdf") == "old pdf");
    CHECK(dir.entries() == 2);
  }
  SECTION("commit puts every staged file in place") {
    output_set outputs;
    outputs.stage(out, "tex");
    const fs::path renderer_target = outputs.stage_path(dir.path / "graph.svg");
    write(renderer_target, "<svg/>");
    outputs.commit();
    CHECK(read_file(out) == "tex");
    CHECK(read_file(dir.path / "graph.svg") == "<svg/>");
    CHECK(dir.entries() == 2);
  }
}

TEST_CASE("outputs never overwrite the input", "[output]") {
  scratch_directory dir;
  const fs::path input = dir.path / "mazur.chain";
  write(input, "input x = 1");
  const std::vector<fs::path> inputs{input};

  SECTION("same path") {
    CHECK_THROWS_WITH(write_file_atomically(input, "x", inputs),
                      Catch::Contains("refusing to write") && Catch::Contains("input file"));
  }
  SECTION("another spelling of the same path") {
    const fs::path other = dir.path / "." / ".." / dir.path.filename() / "mazur.chain";
    CHECK_THROWS_AS(write_file_atomically(other, "x", inputs), output_error);
  }
  SECTION("a symbolic link and a hard link to it") {
    fs::create_symlink(input, dir.path / "link.tex");
    fs::create_hard_link(input, dir.path / "hard.tex");
    CHECK_THROWS_AS(write_file_atomically(dir.path / "link.tex", "x", inputs), output_error);
    CHECK_THROWS_AS(write_file_atomically(dir.path / "hard.tex", "x", inputs), output_error);
  }
  CHECK(read_file(input) == "input x = 1");
}

TEST_CASE("bad destinations get clear errors", "[output]") {
  scratch_directory dir;
  CHECK_THROWS_WITH(write_file_atomically(dir.path / "missing" / "out.tex", "x"),
                    Catch::Contains("directory") && Catch::Contains("does not exist"));
  CHECK_THROWS_WITH(write_file_atomically(dir.path, "x"), Catch::Contains("is a directory"));
  output_set outputs;
  outputs.stage(dir.path / "a.tex", "x");
  CHECK_THROWS_WITH(outputs.stage(dir.path / "." / "a.tex", "y"),
                    Catch::Contains("requested as two different outputs"));
  CHECK_THROWS_WITH(write_file_atomically("", "x"), Catch::Contains("empty"));
  if (::geteuid() != 0) {
    const fs::path locked = dir.path / "locked";
    fs::create_directory(locked);
    fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec);
    CHECK_THROWS_WITH(write_file_atomically(locked / "out.tex", "x"),
                      Catch::Contains("cannot write") && Catch::Contains("Permission denied"));
  }
  CHECK_THROWS_WITH(read_file(dir.path / "nope"), Catch::Contains("cannot read"));
}
