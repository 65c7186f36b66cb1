// The character-level text of the GPT trainer: UTF-8 decoding, the vocabulary, encode and decode.
//
//   const std::u32string text = read_utf8_file("input.txt");   // Unicode code points
//   const Vocabulary vocab(text);                               // sorted(set(text)), as the lecture's `chars`
//   std::vector<int64_t> ids = vocab.encode(text);              // stoi
//   std::string back = vocab.decode(ids);                       // itos, joined, as UTF-8
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace trainer {

// The code points of `bytes`, strict UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF). Throws
// std::invalid_argument naming `what` and the byte offset of the first invalid sequence.
std::u32string decode_utf8(const std::string& bytes, const std::string& what);
// The UTF-8 bytes of code points (each a valid scalar value, as decode_utf8 gives).
std::string encode_utf8(const std::u32string& text);

// Reads a whole file as UTF-8 text. Throws std::invalid_argument naming the file if it cannot be read, is empty or
// is not valid UTF-8.
std::u32string read_utf8_file(const std::string& path);

class Vocabulary {
public:
    // The sorted distinct characters (code points) of text; throws std::invalid_argument if text is empty.
    explicit Vocabulary(const std::u32string& text);

    int64_t size() const { return static_cast<int64_t>(chars.size()); }
    // The ids of text's characters; throws std::invalid_argument for a character not in the vocabulary.
    std::vector<int64_t> encode(const std::u32string& text) const;
    // The UTF-8 text of ids; throws std::out_of_range for an id outside [0, size()).
    std::string decode(const std::vector<int64_t>& ids) const;

    std::u32string chars;  // id i is chars[i]
};

}  // namespace trainer
