// SPDX-License-Identifier: MIT
// Writing output files so that a reader never sees half a file and a failed run changes nothing.
//
// Every output is first written to a temporary file in the destination's own directory (so the
// final rename stays on one file system and is atomic), and only renamed into place once every
// output of the run has been written. Outputs that would replace one of the run's inputs are
// refused before anything is written.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace chainrule::exporters {

/// Raised when an output cannot be staged or committed. what() names the file, says what went
/// wrong and, where there is one, what would work instead.
class output_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// True when `a` and `b` name the same existing file (same device and inode, so hard links,
/// symbolic links and different spellings of one path are all caught). False when either does
/// not exist.
[[nodiscard]] bool same_file(const std::filesystem::path& a, const std::filesystem::path& b);

/// A set of output files written all-or-nothing.
///
///     output_set out({"mazur.chain"});
///     out.stage("mazur.tex", latex);   // written to ./.mazur.tex.<random>.tmp
///     out.stage("mazur.pdf", pdf);
///     out.commit();                    // both renamed into place
///
/// If the object is destroyed before commit() (an exception, a later step failing), the
/// temporary files are removed and existing files at the destinations are left untouched.
class output_set {
 public:
  /// `inputs` are the files the run read; staging an output that is one of them throws.
  explicit output_set(std::vector<std::filesystem::path> inputs = {});
  ~output_set();

  output_set(const output_set&) = delete;
  output_set& operator=(const output_set&) = delete;
  output_set(output_set&&) noexcept;
  output_set& operator=(output_set&&) noexcept;

  /// Throws output_error if `destination` is one of the inputs, a directory, already staged, or
  /// in a directory that does not exist. stage() checks this too; calling it first lets a
  /// command refuse a bad destination before doing any work.
  void check(const std::filesystem::path& destination) const;

  /// Checks `destination` like check() and writes `contents` to a temporary file beside it.
  /// Throws output_error.
  void stage(const std::filesystem::path& destination, std::string_view contents);

  /// Checks `destination` like stage() and returns a fresh, empty temporary file beside it for
  /// a writer that needs a path (for example a renderer that writes files itself). The file is
  /// renamed into place by commit() like any other staged output.
  [[nodiscard]] std::filesystem::path stage_path(const std::filesystem::path& destination);

  /// Renames every staged file into place, in staging order. Throws output_error if a rename
  /// fails; the outputs renamed before it stay written, the rest are removed.
  void commit();

  /// The destinations staged so far, in order.
  [[nodiscard]] std::vector<std::filesystem::path> destinations() const;

 private:
  struct staged {
    std::filesystem::path destination;
    std::filesystem::path temporary;
  };
  void discard() noexcept;

  std::vector<std::filesystem::path> inputs_;
  std::vector<staged> staged_;
};

/// Writes one file atomically: output_set with a single stage() and commit().
void write_file_atomically(const std::filesystem::path& destination, std::string_view contents,
                           std::vector<std::filesystem::path> inputs = {});

/// Reads a whole file as bytes. Throws output_error naming the file if it cannot be read.
[[nodiscard]] std::string read_file(const std::filesystem::path& path);

}  // namespace chainrule::exporters
