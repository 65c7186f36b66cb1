// safetensors: the tensor file format of Hugging Face, read and written without any library but a JSON parser.
//
// A file is three parts, back to back:
//   [8 bytes]  N, the header's length, an unsigned 64-bit little-endian integer
//   [N bytes]  the header: a UTF-8 JSON object, padded with spaces so that N is a multiple of 8
//              {"__metadata__": {"format": "pt", ...},                        string -> string, optional
//               "key.weight": {"dtype": "F32", "shape": [16, 32], "data_offsets": [0, 2048]}, ...}
//   [rest]     the data buffer: every tensor's elements, row-major and little-endian, packed without gaps
// data_offsets are [begin, end) in bytes from the start of the data buffer, and end - begin is the dtype's size
// times the shape's product. We know the dtypes F32, F64, I64 and BOOL (one byte, 0 or 1). Such a file is what
// Python's safetensors.torch.save_file writes, so the two read each other's files.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace ag {


// Writes `tensors` (in their order, also the order of their bytes) and `metadata` to `path`, atomically (see
// io/atomic_file.h): the bytes go to a temporary file beside `path`, which is flushed to disk and then renamed
// over `path`, so `path` holds either its old contents or the complete new file. An existing file keeps its
// permission bits, and a symbolic link stays a link: the file it points to gets the new contents.
// metadata["format"] is "pt" unless given.
// Throws std::invalid_argument for an undefined tensor, an empty, repeated or reserved ("__metadata__") name, and
// std::system_error (a std::runtime_error, with the system's error code) when the file cannot be written (the
// temporary file is removed). A process killed mid-save leaves `path` as it was and a stray
// `.attograd.tmp-<pid>-<n>` in its directory, safe to delete.
void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata = {});

struct SafetensorsFile {
    NamedTensors tensors;                         // fresh row-major tensors, in the order of their bytes
    std::map<std::string, std::string> metadata;  // the "__metadata__" object (empty if the file has none)
};

// Reads a whole safetensors file after checking that it is well formed: the header length fits in the file, the
// header is a JSON object without repeated keys, each entry has a known dtype, a shape of non-negative sizes whose
// byte count does not overflow, and data_offsets of exactly that many bytes; the tensors tile the data buffer
// exactly (no overlap, no gap, no trailing byte, the rule of the reference implementation); BOOL bytes are 0 or 1.
// Throws std::invalid_argument, naming the file and the first problem found, if it cannot be opened or read or
// breaks any of these rules.
SafetensorsFile load_safetensors(const std::string& path);

}  // namespace ag
