// A minimal reader of the ONNX protobuf wire format: only what the policy runtime needs, the
// model's metadata_props and the float32 initializers of its graph. Everything else (nodes,
// inputs, opsets) is skipped unread, so no protobuf library is needed.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sailir {

struct OnnxTensor {
  std::vector<std::int64_t> dims;
  int data_type = 0;         // TensorProto.DataType; 1 is FLOAT, the only one decoded
  std::vector<float> data;   // row-major; empty unless data_type is FLOAT
};

struct OnnxModel {
  std::map<std::string, std::string> metadata;      // every metadata_props entry
  std::map<std::string, OnnxTensor> initializers;  // graph initializers by name
};

// Parses `bytes`. Throws PolicyFileError ("policy file <origin> is not a readable ONNX model
// (...)") on anything malformed: bad wire type, truncated varint or field, a field running past
// its message, a float tensor whose data does not match its dims, external tensor data. Never
// reads outside `bytes`.
OnnxModel read_onnx(std::string_view bytes, const std::string& origin);

// The float32 initializer `name` with exactly the shape `dims`; PolicyFileError otherwise.
const std::vector<float>& onnx_weight(const OnnxModel& model, const std::string& name,
                                      const std::vector<std::int64_t>& dims, const std::string& origin);

}  // namespace sailir
