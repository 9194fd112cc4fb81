#include "policy/onnx_file.hpp"

#include <bit>
#include <cstring>

#include "policy/policy.hpp"

namespace sailir {

namespace {

// Field numbers of onnx.proto3 that we read.
constexpr std::uint32_t kModelGraph = 7, kModelMetadata = 14;
constexpr std::uint32_t kEntryKey = 1, kEntryValue = 2;
constexpr std::uint32_t kGraphInitializer = 5;
constexpr std::uint32_t kTensorDims = 1, kTensorDataType = 2, kTensorFloatData = 4, kTensorName = 8,
                        kTensorRawData = 9, kTensorExternalData = 13, kTensorDataLocation = 14;
constexpr int kFloat = 1;
constexpr int kWireVarint = 0, kWireFixed64 = 1, kWireBytes = 2, kWireFixed32 = 5;

// A bounds-checked cursor over one message's bytes. Every read checks the remaining length
// first, so a corrupt file can only produce an error, never a read past the end.
class Reader {
 public:
  Reader(std::string_view bytes, const std::string& origin, std::size_t base = 0)
      : p_(bytes), origin_(origin), base_(base) {}

  bool done() const { return pos_ == p_.size(); }

  [[noreturn]] void fail(const std::string& what) const {
    throw PolicyFileError("policy file " + origin_ + " is not a readable ONNX model (" + what + " at byte " +
                          std::to_string(base_ + pos_) + ")");
  }

  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= p_.size()) fail("truncated varint");
      const auto b = static_cast<std::uint8_t>(p_[pos_++]);
      if (shift == 63 && b > 1) fail("varint longer than 64 bits");
      v |= std::uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    fail("varint longer than 64 bits");
  }

  // A field key: (field number, wire type), with the wire type checked.
  std::pair<std::uint32_t, int> key() {
    const std::uint64_t k = varint();
    const int wire = static_cast<int>(k & 7);
    if (wire != kWireVarint && wire != kWireFixed64 && wire != kWireBytes && wire != kWireFixed32)
      fail("unsupported wire type " + std::to_string(wire));
    if ((k >> 3) == 0 || (k >> 3) > 0x1fffffff) fail("bad field number");
    return {static_cast<std::uint32_t>(k >> 3), wire};
  }

  // The payload of a length-delimited field, with its offset for nested messages' messages.
  std::pair<std::string_view, std::size_t> bytes() {
    const std::uint64_t n = varint();
    if (n > p_.size() - pos_) fail("field of " + std::to_string(n) + " bytes runs past the end");
    const std::size_t at = pos_;
    pos_ += static_cast<std::size_t>(n);
    return {p_.substr(at, static_cast<std::size_t>(n)), base_ + at};
  }

  Reader sub() {
    auto [b, at] = bytes();
    return Reader(b, origin_, at);
  }

  std::uint32_t fixed32() {
    if (p_.size() - pos_ < 4) fail("truncated fixed32");
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= std::uint32_t(static_cast<std::uint8_t>(p_[pos_ + i])) << (8 * i);
    pos_ += 4;
    return v;
  }

  void skip(int wire) {
    switch (wire) {
      case kWireVarint: varint(); break;
      case kWireFixed64:
        if (p_.size() - pos_ < 8) fail("truncated fixed64");
        pos_ += 8;
        break;
      case kWireBytes: bytes(); break;
      case kWireFixed32: fixed32(); break;
      default: fail("unsupported wire type");
    }
  }

  void expect(int wire, int want, const char* field) const {
    if (wire != want) fail(std::string("wrong wire type for ") + field);
  }

 private:
  std::string_view p_;
  const std::string& origin_;
  std::size_t base_;
  std::size_t pos_ = 0;
};

float float_of(std::uint32_t bits) { return std::bit_cast<float>(bits); }

// Little-endian float32 values (raw_data and packed float_data are both in this layout).
void append_floats(Reader& r, std::string_view b, std::vector<float>& out) {
  if (b.size() % 4 != 0) r.fail("float data of " + std::to_string(b.size()) + " bytes");
  const std::size_t n = b.size() / 4;
  const std::size_t at = out.size();
  out.resize(at + n);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t v = 0;
    for (int j = 0; j < 4; ++j) v |= std::uint32_t(static_cast<std::uint8_t>(b[4 * i + j])) << (8 * j);
    out[at + i] = float_of(v);
  }
}

void read_tensor(Reader r, OnnxModel& model) {
  std::string name;
  OnnxTensor t;
  std::vector<float> float_data;
  std::string_view raw;
  bool has_raw = false;
  while (!r.done()) {
    auto [field, wire] = r.key();
    switch (field) {
      case kTensorDims:
        if (wire == kWireBytes) {  // packed
          Reader d = r.sub();
          while (!d.done()) t.dims.push_back(static_cast<std::int64_t>(d.varint()));
        } else {
          r.expect(wire, kWireVarint, "dims");
          t.dims.push_back(static_cast<std::int64_t>(r.varint()));
        }
        break;
      case kTensorDataType:
        r.expect(wire, kWireVarint, "data_type");
        t.data_type = static_cast<int>(r.varint() & 0x7fffffff);
        break;
      case kTensorFloatData:
        if (wire == kWireBytes) {
          append_floats(r, r.bytes().first, float_data);
        } else {
          r.expect(wire, kWireFixed32, "float_data");
          float_data.push_back(float_of(r.fixed32()));
        }
        break;
      case kTensorName:
        r.expect(wire, kWireBytes, "tensor name");
        name = std::string(r.bytes().first);
        break;
      case kTensorRawData:
        r.expect(wire, kWireBytes, "raw_data");
        raw = r.bytes().first;
        has_raw = true;
        break;
      case kTensorExternalData:
        r.fail("tensor with external data");
      case kTensorDataLocation:
        r.expect(wire, kWireVarint, "data_location");
        if (r.varint() != 0) r.fail("tensor with external data");
        break;
      default: r.skip(wire);
    }
  }
  if (t.data_type == kFloat) {
    // Count the elements the dims promise, refusing negative dims and absurd products.
    std::uint64_t count = 1;
    for (std::int64_t d : t.dims) {
      if (d < 0 || (d > 0 && count > (std::uint64_t{1} << 40) / static_cast<std::uint64_t>(d)))
        r.fail("tensor '" + name + "' with bad dims");
      count *= static_cast<std::uint64_t>(d);
    }
    if (has_raw) {
      if (!float_data.empty()) r.fail("tensor '" + name + "' with both raw_data and float_data");
      append_floats(r, raw, t.data);
    } else {
      t.data = std::move(float_data);
    }
    if (t.data.size() != count)
      r.fail("tensor '" + name + "' holds " + std::to_string(t.data.size()) + " values for " +
             std::to_string(count) + " elements");
  }
  if (!model.initializers.emplace(name, std::move(t)).second) r.fail("duplicate initializer '" + name + "'");
}

void read_graph(Reader r, OnnxModel& model) {
  while (!r.done()) {
    auto [field, wire] = r.key();
    if (field == kGraphInitializer) {
      r.expect(wire, kWireBytes, "initializer");
      read_tensor(r.sub(), model);
    } else {
      r.skip(wire);
    }
  }
}

void read_entry(Reader r, OnnxModel& model) {
  std::string key, value;
  while (!r.done()) {
    auto [field, wire] = r.key();
    if (field == kEntryKey || field == kEntryValue) {
      r.expect(wire, kWireBytes, "metadata string");
      (field == kEntryKey ? key : value) = std::string(r.bytes().first);
    } else {
      r.skip(wire);
    }
  }
  model.metadata[key] = std::move(value);  // protobuf map semantics: the last entry wins
}

}  // namespace

OnnxModel read_onnx(std::string_view bytes, const std::string& origin) {
  OnnxModel model;
  Reader r(bytes, origin);
  if (bytes.empty()) r.fail("empty file");
  while (!r.done()) {
    auto [field, wire] = r.key();
    if (field == kModelGraph) {
      r.expect(wire, kWireBytes, "graph");
      read_graph(r.sub(), model);
    } else if (field == kModelMetadata) {
      r.expect(wire, kWireBytes, "metadata_props");
      read_entry(r.sub(), model);
    } else {
      r.skip(wire);
    }
  }
  return model;
}

const std::vector<float>& onnx_weight(const OnnxModel& model, const std::string& name,
                                      const std::vector<std::int64_t>& dims, const std::string& origin) {
  auto it = model.initializers.find(name);
  if (it == model.initializers.end()) throw PolicyFileError("policy file " + origin + " lacks the weight " + name);
  const OnnxTensor& t = it->second;
  if (t.data_type != kFloat)
    throw PolicyFileError("policy file " + origin + ": weight " + name + " has data type " +
                          std::to_string(t.data_type) + ", not float32");
  if (t.dims != dims) {
    auto text = [](const std::vector<std::int64_t>& d) {
      std::string s = "[";
      for (std::size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
      return s + "]";
    };
    throw PolicyFileError("policy file " + origin + ": weight " + name + " has shape " + text(t.dims) +
                          ", expected " + text(dims));
  }
  return t.data;
}

}  // namespace sailir
