#include "examples/support/text.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

namespace trainer {

namespace {

std::string hex(uint32_t v) {
    std::ostringstream out;
    out << "U+" << std::uppercase << std::hex << v;
    return out.str();
}

}  // namespace

// A lead byte 0xxxxxxx (1 byte), 110xxxxx (2), 1110xxxx (3) or 11110xxx (4), then 10xxxxxx continuation bytes; the
// value must need that many bytes (no overlong form) and be a scalar value (not U+D800..U+DFFF, at most U+10FFFF).
std::u32string decode_utf8(const std::string& bytes, const std::string& what) {
    std::u32string out;
    out.reserve(bytes.size());
    size_t i = 0;
    const auto fail = [&](const char* why) {
        throw std::invalid_argument(what + ": not valid UTF-8 at byte " + std::to_string(i) + " (" + why + ")");
    };
    while (i < bytes.size()) {
        const auto b0 = static_cast<unsigned char>(bytes[i]);
        if (b0 < 0x80) {
            out.push_back(b0);
            ++i;
            continue;
        }
        int extra;
        char32_t value, least;
        if ((b0 & 0xE0) == 0xC0) extra = 1, value = b0 & 0x1F, least = 0x80;
        else if ((b0 & 0xF0) == 0xE0) extra = 2, value = b0 & 0x0F, least = 0x800;
        else if ((b0 & 0xF8) == 0xF0) extra = 3, value = b0 & 0x07, least = 0x10000;
        else fail("not a lead byte");
        if (i + extra >= bytes.size()) fail("the sequence is cut short by the end of the text");
        for (int k = 1; k <= extra; ++k) {
            const auto b = static_cast<unsigned char>(bytes[i + k]);
            if ((b & 0xC0) != 0x80) fail("a continuation byte is missing");
            value = (value << 6) | (b & 0x3F);
        }
        if (value < least) fail("an overlong form");
        if (value >= 0xD800 && value <= 0xDFFF) fail("a surrogate");
        if (value > 0x10FFFF) fail("above U+10FFFF");
        out.push_back(value);
        i += extra + 1;
    }
    return out;
}

std::string encode_utf8(const std::u32string& text) {
    std::string out;
    out.reserve(text.size());
    for (char32_t c : text) {
        if (c < 0x80) {
            out += static_cast<char>(c);
        } else if (c < 0x800) {
            out += static_cast<char>(0xC0 | (c >> 6));
            out += static_cast<char>(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            out += static_cast<char>(0xE0 | (c >> 12));
            out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (c & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (c >> 18));
            out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (c & 0x3F));
        }
    }
    return out;
}

std::u32string read_utf8_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::invalid_argument(path + ": cannot open the file for reading");
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw std::invalid_argument(path + ": cannot read the file");
    if (bytes.empty()) throw std::invalid_argument(path + ": the file is empty");
    return decode_utf8(bytes, path);
}

Vocabulary::Vocabulary(const std::u32string& text) : chars(text) {
    if (text.empty()) throw std::invalid_argument("Vocabulary: the text is empty");
    std::sort(chars.begin(), chars.end());
    chars.erase(std::unique(chars.begin(), chars.end()), chars.end());
}

std::vector<int64_t> Vocabulary::encode(const std::u32string& text) const {
    std::vector<int64_t> ids;
    ids.reserve(text.size());
    for (char32_t c : text) {
        const auto it = std::lower_bound(chars.begin(), chars.end(), c);
        if (it == chars.end() || *it != c)
            throw std::invalid_argument("Vocabulary::encode: the character " + hex(c) + " is not in the vocabulary");
        ids.push_back(it - chars.begin());
    }
    return ids;
}

std::string Vocabulary::decode(const std::vector<int64_t>& ids) const {
    std::u32string text;
    text.reserve(ids.size());
    for (int64_t id : ids) {
        if (id < 0 || id >= size())
            throw std::out_of_range("Vocabulary::decode: id " + std::to_string(id) + " is outside [0, " +
                                    std::to_string(size()) + ")");
        text.push_back(chars[static_cast<size_t>(id)]);
    }
    return encode_utf8(text);
}

}  // namespace trainer
