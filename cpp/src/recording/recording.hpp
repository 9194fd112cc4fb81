// A recording: the equations a reduction needs, in elimination order, compiled into flat arrays.
// Each row is one identity at one seed, reduced by earlier rows (listed in `used`, in order) and
// normalized at its lead; its tail's columns are fixed. So a replay at another prime or point is
// arithmetic only: no integral hashing, no search, no allocation per step (docs/recording.md).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "algebra/integral.hpp"
#include "family/family_file.hpp"
#include "family/point.hpp"
#include "ff/nmod.hpp"

namespace sailir {

// A recording file that cannot be used: corrupt, of another version or made for another family.
struct RecordingFileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A reduction that cannot be recorded: the point is not generic (a coefficient vanishes there but
// not elsewhere), or a target does not reduce to the masters with the recorded equations.
struct RecordingError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct RecordingSize {
  std::size_t equations = 0, terms = 0, multiply_adds = 0;
  std::size_t target_multiply_adds = 0;  // of multiply_adds: reducing the targets by the rows
};

struct Recording {
  static constexpr int kVersion = 2;

  std::string family, family_hash, method;  // method: the reducer that found it (laporta, learned)
  int n = 0;
  u64 prime = 0;        // where it was recorded: a replay there reproduces that reduction exactly
  NumericPoint point;
  std::vector<Integral> columns;        // integral of each column
  std::vector<std::uint32_t> masters;   // their columns, in basis order
  std::vector<std::uint32_t> targets;   // their columns, in output order
  std::vector<std::uint8_t> target_zero;  // 1: the target lies in a zero sector
  // 0: every target is the caller's. Else the first user_targets are, and the rest are the
  // images of masters under the family's symmetries: a replay rewrites the caller's targets onto
  // the masters of unique sectors (identities/symmetric_basis.hpp).
  std::uint64_t user_targets = 0;

  // Rows, in elimination order. Row r: identity row_template[r] at row_seed[r]; its terms are
  // template terms term_k[...] on columns term_col[...] (CSR by term_begin).
  std::vector<std::int32_t> row_template;
  std::vector<Integral> row_seed;
  std::vector<std::uint32_t> row_lead;
  std::vector<std::uint32_t> term_begin{0};
  std::vector<std::uint16_t> term_k;
  std::vector<std::uint32_t> term_col;
  std::vector<std::uint32_t> used_begin{0};  // earlier rows eliminated from it, in order
  std::vector<std::uint32_t> used;
  std::vector<std::uint32_t> tail_begin{0};  // columns of its normalized tail
  std::vector<std::uint32_t> tail_col;
  // Per target: the rows eliminated from it, in order; what is left lies on the masters.
  std::vector<std::uint32_t> target_used_begin{0};
  std::vector<std::uint32_t> target_used;

  std::size_t rows() const { return row_lead.size(); }
  // Names what the recording was made for and by.
  void set_origin(const FamilyDef& fam, std::string by, u64 at_prime, NumericPoint at_point) {
    family = fam.name;
    family_hash = fam.hash;
    method = std::move(by);
    prime = at_prime;
    point = std::move(at_point);
  }
  RecordingSize size() const;
  std::vector<Integral> master_integrals() const;
  std::vector<Integral> target_integrals() const;

  std::string to_text() const;
  // Throws RecordingFileError (one line) for a corrupt file or one made for another family.
  static Recording parse(std::string_view text, const FamilyDef& family);
};

// Whether `text` is a recording (else it may be a learned reduction path, docs/reduction-path.md).
bool is_recording_text(std::string_view text);

}  // namespace sailir
