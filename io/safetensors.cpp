#include "io/safetensors.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <fstream>
#include <limits>
#include <optional>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "io/atomic_file.h"

namespace ag {

namespace {

// Tensors are written and read by copying their bytes as they lie in memory, which is the file's byte order only
// on a little-endian machine.
static_assert(std::endian::native == std::endian::little, "safetensors: this reader assumes a little-endian host");

// ordered_json keeps the keys in the order of the file (and of our writing), so the tensors keep their order.
using Json = nlohmann::ordered_json;

// The reference implementation refuses headers over 100 MB; so do we, before allocating one.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

// A header nests three levels deep: the header object, an entry, its shape or data_offsets list. A few more levels
// are let through (an entry may carry keys of its own) and no more, checked as the parser opens each one: deeper
// JSON is no safetensors header, and every later walk over a shallow value (printing it is recursive) is safe.
constexpr int kMaxHeaderDepth = 8;

// Error messages quote at most this many bytes of a name or a value from the file, which may be megabytes long.
constexpr std::size_t kMaxQuoted = 200;

constexpr std::pair<DType, const char*> kDTypeCodes[] = {
    {DType::Float32, "F32"}, {DType::Float64, "F64"}, {DType::Int64, "I64"}, {DType::Bool, "BOOL"}};

const char* dtype_code(DType dtype) {
    for (const auto& [d, code] : kDTypeCodes)
        if (d == dtype) return code;
    throw std::invalid_argument("safetensors: no code for dtype " + dtype_name(dtype));
}

std::optional<DType> dtype_from_code(const std::string& code) {
    for (const auto& [d, c] : kDTypeCodes)
        if (code == c) return d;
    return std::nullopt;
}

// The tensor's elements, row-major, as raw bytes (t must be contiguous).
const char* bytes_of(const Tensor& t) {
    return static_cast<const char*>(t.impl().storage->data()) + t.offset() * dtype_size(t.dtype());
}
int64_t nbytes_of(const Tensor& t) { return ag::nbytes_of(t.shape(), dtype_size(t.dtype())); }

// ---- writing ---------------------------------------------------------------------------------------------------

void check_names(const NamedTensors& tensors) {
    std::set<std::string> seen;
    for (const auto& [name, t] : tensors) {
        if (name.empty() || name == "__metadata__")
            throw std::invalid_argument("save_safetensors: a tensor name must be non-empty and not '__metadata__'; "
                                        "got '" + name + "'");
        if (!seen.insert(name).second)
            throw std::invalid_argument("save_safetensors: tensor names must be unique; got '" + name + "' twice");
        if (!t.defined()) throw std::invalid_argument("save_safetensors: tensor '" + name + "' is undefined");
    }
}

// The JSON header, padded with spaces to a multiple of 8 bytes (so the data buffer starts 8-byte aligned).
// "__metadata__" comes first and the tensors follow in the order of their bytes, as the reference writer does.
std::string make_header(const NamedTensors& tensors, const std::map<std::string, std::string>& metadata) {
    Json header = Json::object();
    Json meta = Json::object();
    meta["format"] = "pt";
    for (const auto& [key, value] : metadata) meta[key] = value;
    header["__metadata__"] = meta;
    int64_t offset = 0;
    for (const auto& [name, t] : tensors) {
        const int64_t end = offset + nbytes_of(t);
        const std::vector<int64_t> shape(t.shape().begin(), t.shape().end());
        header[name] = {{"dtype", dtype_code(t.dtype())}, {"shape", shape}, {"data_offsets", {offset, end}}};
        offset = end;
    }
    std::string text;
    try {
        text = header.dump();
    } catch (const Json::exception& e) {  // a name that is not valid UTF-8
        throw std::invalid_argument(std::string("save_safetensors: cannot encode the header: ") + e.what());
    }
    text.append((8 - text.size() % 8) % 8, ' ');
    return text;
}

}  // namespace

void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata) {
    check_names(tensors);
    NamedTensors dense;  // row-major copies where needed; contiguous tensors are used in place
    for (const auto& [name, t] : tensors) dense.emplace_back(name, t.detach().contiguous());
    const std::string header = make_header(dense, metadata);
    const uint64_t header_length = header.size();
    write_file_atomically(path, [&](std::FILE* f) {
        if (std::fwrite(&header_length, 8, 1, f) != 1) return false;
        if (std::fwrite(header.data(), 1, header.size(), f) != header.size()) return false;
        for (const auto& named : dense) {
            const auto n = static_cast<std::size_t>(nbytes_of(named.second));
            if (std::fwrite(bytes_of(named.second), 1, n, f) != n) return false;
        }
        return true;
    }, "save_safetensors");
}

// ---- reading ---------------------------------------------------------------------------------------------------

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
    throw std::invalid_argument("load_safetensors: " + problem + " (file '" + path + "')");
}

// `text` cut to kMaxQuoted bytes (at a UTF-8 character boundary), then "..." if anything was cut.
std::string clip(const std::string& text) {
    if (text.size() <= kMaxQuoted) return text;
    std::size_t n = kMaxQuoted;
    while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;  // a continuation byte
    return text.substr(0, n) + "...";
}

// Appends j's JSON text (as dump() writes it) to `out`, stopping soon after `out` is longer than kMaxQuoted bytes.
void append_json(const Json& j, std::string& out) {
    if (!j.is_structured()) {
        out += j.is_string() ? Json(clip(j.get_ref<const std::string&>())).dump() : j.dump();
        return;
    }
    out += j.is_array() ? '[' : '{';
    for (auto it = j.begin(); it != j.end() && out.size() <= kMaxQuoted; ++it) {
        if (it != j.begin()) out += ',';
        if (j.is_object()) out += Json(clip(it.key())).dump() + ':';
        append_json(*it, out);
    }
    out += j.is_array() ? ']' : '}';
}

// A value from the header for an error message: its JSON text, clipped (see clip).
std::string quote(const Json& j) {
    std::string out;
    append_json(j, out);
    return clip(out);
}

// One tensor's header entry, checked.
struct Entry {
    std::string name;
    DType dtype = DType::Float32;
    Shape shape;
    uint64_t begin = 0, end = 0;  // [begin, end) in bytes from the start of the data buffer
};

// Parses the header text, refusing a key that appears twice in one object: JSON parsers silently keep one of the
// two values (which one differs between parsers), so such a file would mean different things to different readers.
Json parse_header(const std::string& text, const std::string& path) {
    if (text.empty() || text[0] != '{') fail(path, "the header must be a JSON object, starting with '{'");
    // nlohmann's parser takes a NUL byte for the end of the input and would ignore whatever follows it.
    if (const auto nul = text.find('\0'); nul != std::string::npos)
        fail(path, "the header is not valid JSON: it has a NUL byte at offset " + std::to_string(nul));
    std::vector<std::set<std::string>> open_objects;  // the keys seen so far in each object being parsed
    std::string repeated;
    // `depth` counts the objects and arrays around the event; refusing here stops the parse before it goes deeper.
    auto watch = [&](int depth, Json::parse_event_t event, Json& parsed) {
        const bool opens = event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start;
        if (opens && depth >= kMaxHeaderDepth)
            fail(path, "the header may nest objects and arrays " + std::to_string(kMaxHeaderDepth) +
                           " levels deep at most (safetensors needs 3); got level " + std::to_string(depth + 1));
        if (event == Json::parse_event_t::object_start) open_objects.emplace_back();
        if (event == Json::parse_event_t::object_end) open_objects.pop_back();
        if (event == Json::parse_event_t::key && !open_objects.back().insert(parsed.get<std::string>()).second &&
            repeated.empty())
            repeated = parsed.get<std::string>();
        return true;
    };
    try {
        Json header = Json::parse(text, watch);
        if (!repeated.empty()) fail(path, "the header has the key '" + clip(repeated) + "' twice");
        return header;
    } catch (const Json::exception& e) {  // its message ends with the token read last, which may be a long string
        fail(path, "the header is not valid JSON: " + clip(e.what()));
    }
}

// A size or offset: a non-negative integer that fits in int64, or nullopt.
std::optional<uint64_t> as_size(const Json& j) {
    if (!j.is_number_unsigned()) return std::nullopt;  // negative integers and floats are other JSON number types
    const auto v = j.get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return v;
}

// Checks one tensor's entry: {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]} with a known dtype,
// a byte count that fits in int64, and offsets spanning exactly that many bytes inside the data buffer.
Entry parse_entry(const std::string& name, const Json& j, uint64_t buffer_bytes, const std::string& path) {
    auto bad = [&](const std::string& problem) { fail(path, "tensor '" + clip(name) + "': " + problem); };
    if (!j.is_object()) bad("the entry must be an object; got " + quote(j));
    for (const char* key : {"dtype", "shape", "data_offsets"})
        if (!j.contains(key)) bad(std::string("the entry has no \"") + key + "\"; got " + quote(j));
    Entry e;
    e.name = name;
    const Json& dtype = j.at("dtype");
    const std::optional<DType> d = dtype.is_string() ? dtype_from_code(dtype.get<std::string>()) : std::nullopt;
    if (!d) bad("unknown dtype " + quote(dtype) + " (known: F32, F64, I64, BOOL)");
    e.dtype = *d;
    const Json& shape = j.at("shape");
    if (!shape.is_array()) bad("shape must be a list of non-negative integers; got " + quote(shape));
    for (const Json& s : shape) {
        const std::optional<uint64_t> size = as_size(s);
        if (!size) bad("shape must be a list of non-negative integers; got " + quote(shape));
        e.shape.push_back(static_cast<int64_t>(*size));
    }
    // The engine's own rule for shapes: the byte count and the strides must fit in int64, also with a size of 0
    // ([0, 2^62, 2^62] holds no bytes, but its strides cannot be written down).
    uint64_t nbytes = 0;
    try {
        nbytes = static_cast<uint64_t>(ag::nbytes_of(e.shape, dtype_size(e.dtype)));
    } catch (const std::length_error&) {
        bad("shape " + quote(shape) + " holds more elements or bytes than a 64-bit size can count");
    }
    const Json& offsets = j.at("data_offsets");
    std::optional<uint64_t> begin, end;
    if (offsets.is_array() && offsets.size() == 2) begin = as_size(offsets[0]), end = as_size(offsets[1]);
    if (!begin || !end || *begin > *end)
        bad("data_offsets must be [begin, end] with 0 <= begin <= end; got " + quote(offsets));
    if (*end > buffer_bytes)
        bad("data_offsets " + quote(offsets) + " point past the end of the " + std::to_string(buffer_bytes) +
            "-byte data buffer");
    if (*end - *begin != nbytes)
        bad("data_offsets " + quote(offsets) + " span " + std::to_string(*end - *begin) + " bytes but dtype " +
            dtype.get<std::string>() + " and shape " + shape_str(e.shape) + " need " + std::to_string(nbytes));
    e.begin = *begin;
    e.end = *end;
    return e;
}

// Every tensor entry of the header, and the "__metadata__" object (string -> string) into `metadata`.
std::vector<Entry> parse_entries(const Json& header, uint64_t buffer_bytes, const std::string& path,
                                 std::map<std::string, std::string>& metadata) {
    std::vector<Entry> entries;
    for (const auto& [key, value] : header.items()) {
        if (key != "__metadata__") {
            entries.push_back(parse_entry(key, value, buffer_bytes, path));
            continue;
        }
        if (!value.is_object()) fail(path, "__metadata__ must be an object; got " + quote(value));
        for (const auto& [k, v] : value.items()) {
            if (!v.is_string()) fail(path, "__metadata__ must map strings to strings; got " + quote(value));
            metadata[k] = v.get<std::string>();
        }
    }
    return entries;
}

// The format's rule: sorted by offset, the tensors cover the data buffer exactly once, with no overlap, no gap and
// no trailing byte. Sorts `entries` by offset.
void check_tiling(std::vector<Entry>& entries, uint64_t buffer_bytes, const std::string& path) {
    std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
        return std::tie(a.begin, a.end) < std::tie(b.begin, b.end);
    });
    uint64_t covered = 0;  // bytes [0, covered) of the buffer belong to the tensors seen so far
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const Entry& e = entries[i];
        const std::string span = "[" + std::to_string(e.begin) + ", " + std::to_string(e.end) + ")";
        if (e.begin < covered)
            fail(path, "tensors '" + clip(entries[i - 1].name) + "' and '" + clip(e.name) +
                           "' overlap in the data buffer ('" + clip(e.name) + "' is at " + span + ")");
        if (e.begin > covered)
            fail(path, "bytes [" + std::to_string(covered) + ", " + std::to_string(e.begin) +
                           ") of the data buffer belong to no tensor (a gap before '" + clip(e.name) + "')");
        covered = e.end;
    }
    if (covered != buffer_bytes)
        fail(path, "the tensors cover " + std::to_string(covered) + " bytes but the data buffer holds " +
                       std::to_string(buffer_bytes));
}

// Reads the data buffer into fresh tensors; `entries` are sorted and tile it, so one sequential pass does.
NamedTensors read_tensors(std::istream& in, const std::vector<Entry>& entries, const std::string& path) {
    NamedTensors out;
    for (const Entry& e : entries) {
        Tensor t = empty(e.shape, e.dtype);
        char* p = static_cast<char*>(t.impl().storage->data());
        const auto n = static_cast<std::streamsize>(e.end - e.begin);
        if (!in.read(p, n)) fail(path, "the file ended while reading tensor '" + clip(e.name) + "'");
        // Any other byte read as a C++ bool is undefined behaviour.
        if (e.dtype == DType::Bool && std::any_of(p, p + n, [](char c) { return c != 0 && c != 1; }))
            fail(path, "tensor '" + clip(e.name) + "' has dtype BOOL but holds a byte other than 0 or 1");
        out.emplace_back(e.name, std::move(t));
    }
    return out;
}

}  // namespace

SafetensorsFile load_safetensors(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (!fs::exists(status)) fail(path, "cannot open the file: " + (ec ? ec.message() : "it does not exist"));
    if (!fs::is_regular_file(status)) fail(path, "cannot open the file: it is not a regular file");
    const uint64_t file_bytes = fs::file_size(path, ec);
    std::ifstream in(path, std::ios::binary);
    if (ec || !in) fail(path, "cannot open the file");

    if (file_bytes < 8)
        fail(path, "the file is too short to hold the 8-byte header length; got " + std::to_string(file_bytes) +
                       " bytes");
    uint64_t header_bytes = 0;  // little-endian on disk and (see the static_assert) in memory
    if (!in.read(reinterpret_cast<char*>(&header_bytes), 8)) fail(path, "cannot read the header length");
    // Compared with what is left rather than added to 8, so that a length near 2^64 cannot overflow.
    if (header_bytes > file_bytes - 8)
        fail(path, "the header length " + std::to_string(header_bytes) + " is larger than the " +
                       std::to_string(file_bytes - 8) + " bytes after it (truncated or not a safetensors file?)");
    if (header_bytes > kMaxHeaderBytes)
        fail(path, "the header length " + std::to_string(header_bytes) + " is over the format's limit of " +
                       std::to_string(kMaxHeaderBytes) + " bytes");
    std::string text(header_bytes, '\0');
    if (!in.read(text.data(), static_cast<std::streamsize>(header_bytes))) fail(path, "cannot read the header");

    SafetensorsFile file;
    const uint64_t buffer_bytes = file_bytes - 8 - header_bytes;
    std::vector<Entry> entries = parse_entries(parse_header(text, path), buffer_bytes, path, file.metadata);
    check_tiling(entries, buffer_bytes, path);
    file.tensors = read_tensors(in, entries, path);
    return file;
}

}  // namespace ag
