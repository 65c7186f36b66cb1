// safetensors: the bytes written checked against the format by hand, files from another writer read, exact round
// trips of every dtype, and every kind of damaged file refused (through load_checkpoint, with the model untouched).
#include <catch2/catch.hpp>

#include "tests/checkpoint_helpers.h"

using namespace checkpoint_test;

TEST_CASE("safetensors: the bytes written match the format worked out by hand", "[safetensors]") {
    TempDir dir;
    const std::string path = dir.file("tiny.safetensors");
    NamedTensors tensors{{"a", tensor({1.0, -2.0})},
                         {"b", tensor(7.0, DType::Int64)},
                         {"m", tensor({1.0, 0.0, 1.0}) == 1.0}};
    save_safetensors(path, tensors, {{"epoch", "3"}});
    // 206 bytes of JSON + 2 spaces = 208 = 0xd0; "__metadata__" first, then the tensors in order, packed:
    // a F32 [2] at [0, 8), b I64 [] at [8, 16), m BOOL [3] at [16, 19).
    const std::string header =
        R"({"__metadata__":{"format":"pt","epoch":"3"},)"
        R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
        R"("b":{"dtype":"I64","shape":[],"data_offsets":[8,16]},)"
        R"("m":{"dtype":"BOOL","shape":[3],"data_offsets":[16,19]}}  )";
    const std::string expected = std::string("\xd0\0\0\0\0\0\0\0", 8) + header +
                                 std::string("\x00\x00\x80\x3f" "\x00\x00\x00\xc0", 8) +  // 1.0f, -2.0f
                                 std::string("\x07\0\0\0\0\0\0\0", 8) +                    // int64 7
                                 std::string("\x01\x00\x01", 3);                           // true, false, true
    CHECK(read_bytes(path) == expected);
}

TEST_CASE("safetensors: a file built by hand loads, its tensors in the order of their bytes", "[safetensors]") {
    TempDir dir;
    const std::string path = dir.file("hand.safetensors");
    // As another writer might lay it out: no metadata, entries not in offset order, spaces, 8-byte padding.
    const std::string header = R"({"b": {"dtype": "I64", "shape": [2], "data_offsets": [8, 24]}, )"
                               R"("a": {"dtype": "F32", "shape": [1, 2], "data_offsets": [0, 8]}}          )";
    REQUIRE(header.size() % 8 == 0);
    write_bytes(path, safetensors_bytes(header, std::string("\x00\x00\x00\x3f" "\x00\x00\x40\x40", 8) +  // 0.5f, 3.0f
                                                    std::string(8, '\xff') + std::string("\x02\0\0\0\0\0\0\0", 8)));
    const SafetensorsFile file = load_safetensors(path);
    CHECK(file.metadata.empty());
    REQUIRE(file.tensors.size() == 2);
    CHECK(file.tensors[0].first == "a");
    CHECK(file.tensors[0].second.shape() == Shape{1, 2});
    CHECK(file.tensors[0].second.to_vector<float>() == std::vector<float>{0.5f, 3.0f});
    CHECK(file.tensors[1].first == "b");
    CHECK(file.tensors[1].second.dtype() == DType::Int64);
    CHECK(file.tensors[1].second.to_vector<int64_t>() == std::vector<int64_t>{-1, 2});
}

TEST_CASE("safetensors: every dtype, empty and non-contiguous tensors and metadata round-trip exactly",
          "[safetensors]") {
    TempDir dir;
    const std::string path = dir.file("all.safetensors");
    const Tensor x = randn({3, 4});
    NamedTensors tensors{{"xt", x.transpose(0, 1)},  // written row-major
                         {"f64", randn({2, 2}, DType::Float64)},
                         {"i64", randint(-5, 5, {5})},
                         {"mask", x > 0.0},
                         {"empty", zeros({0, 3})},
                         {"scalar", tensor(0.25)}};
    save_safetensors(path, tensors, {{"format", "np"}, {"note", "héllo \"quoted\""}});
    const SafetensorsFile file = load_safetensors(path);
    CHECK(file.metadata == std::map<std::string, std::string>{{"format", "np"}, {"note", "héllo \"quoted\""}});
    REQUIRE(file.tensors.size() == tensors.size());
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        INFO(tensors[i].first);
        CHECK(file.tensors[i].first == tensors[i].first);
        CHECK(same_bits(file.tensors[i].second, tensors[i].second));
        CHECK(file.tensors[i].second.is_contiguous());
    }
}

TEST_CASE("safetensors: saving refuses undefined tensors and bad or repeated names", "[safetensors]") {
    TempDir dir;
    const std::string path = dir.file("x.safetensors");
    REQUIRE_THROWS_WITH(save_safetensors(path, {{"a", zeros({1})}, {"a", zeros({1})}}),
                        Catch::Contains("tensor names must be unique; got 'a' twice"));
    REQUIRE_THROWS_WITH(save_safetensors(path, {{"__metadata__", zeros({1})}}), Catch::Contains("'__metadata__'"));
    REQUIRE_THROWS_WITH(save_safetensors(path, {{"", zeros({1})}}), Catch::Contains("non-empty"));
    REQUIRE_THROWS_WITH(save_safetensors(path, {{"a", Tensor()}}), Catch::Contains("tensor 'a' is undefined"));
    CHECK(dir.entries().empty());
}

TEST_CASE("safetensors: truncated files and bad header lengths are refused with the model untouched", "[safetensors]") {
    TempDir dir;
    manual_seed(0);  // fixed weights: one case reads 4 of their bytes as JSON, which must not all be whitespace
    TinyModel source;
    save_checkpoint(dir.file("good.safetensors"), source);
    const std::string good = read_bytes(dir.file("good.safetensors"));
    uint64_t n = 0;
    std::memcpy(&n, good.data(), 8);
    REQUIRE(good.size() == 8 + n + (12 + 3 + 6) * 4);

    for (std::size_t cut : {std::size_t{0}, std::size_t{1}, std::size_t{7}})
        require_refused(dir, good.substr(0, cut),
                        "too short to hold the 8-byte header length; got " + std::to_string(cut));
    for (std::size_t cut : {std::size_t{8}, std::size_t{9}, std::size_t{8 + n / 2}, std::size_t{8 + n - 1}})
        require_refused(dir, good.substr(0, cut), "header length " + std::to_string(n) + " is larger than the");
    for (std::size_t cut : {std::size_t{8 + n}, std::size_t{8 + n + 4}, good.size() - 1})
        require_refused(dir, good.substr(0, cut), "point past the end of the");

    const std::string body = good.substr(8);
    require_refused(dir, u64_le(0xFFFFFFFFFFFFFFFFull) + body, "header length 18446744073709551615 is larger than");
    require_refused(dir, u64_le(good.size()) + body, "is larger than the");
    require_refused(dir, u64_le(n + 4) + body, "not valid JSON");  // the header runs into the data
    require_refused(dir, u64_le(n - 8) + body, "not valid JSON");  // the header stops early
    require_refused(dir, u64_le(0) + body, "must be a JSON object");
    require_refused(dir, good + "extra", "the tensors cover 84 bytes but the data buffer holds 89");

    // A header length over the format's 100 MB limit, in a sparse file big enough to hold it.
    const std::string huge = dir.file("huge.safetensors");
    write_bytes(huge, u64_le(200'000'000) + "{");
    fs::resize_file(huge, 8 + 200'000'000);
    TinyModel model;
    REQUIRE_THROWS_WITH(load_checkpoint(huge, model), Catch::Contains("over the format's limit of 100000000 bytes"));
}

TEST_CASE("safetensors: malformed headers are refused with the model untouched", "[safetensors]") {
    TempDir dir;
    // TinyModel's layout by hand: fc1.weight F32 [3, 4] at [0, 48), fc1.bias [3] at [48, 60), fc2.weight [2, 3]
    // at [60, 84). Each case below changes one thing.
    const std::string weight = entry("F32", "[3,4]", "[0,48]");
    const std::string bias = entry("F32", "[3]", "[48,60]");
    const std::string fc2 = entry("F32", "[2,3]", "[60,84]");
    // A file with these entries for fc1.weight, fc1.bias and fc2.weight, `before` at the start of the header, and
    // a data buffer of buffer_bytes zeros.
    auto layout = [](const std::string& w, const std::string& b, const std::string& f, std::size_t buffer_bytes = 84,
                     const std::string& before = "") {
        return safetensors_bytes("{" + before + R"("fc1.weight":)" + w + R"(,"fc1.bias":)" + b + R"(,"fc2.weight":)" +
                                     f + "}",
                                 std::string(buffer_bytes, '\0'));
    };
    auto with_weight = [&](const std::string& w) { return layout(w, bias, fc2); };
    {
        write_bytes(dir.file("ok.safetensors"), layout(weight, bias, fc2));
        TinyModel model;
        load_checkpoint(dir.file("ok.safetensors"), model);  // the unchanged layout loads
        CHECK(model.fc1.weight.to_vector<float>() == std::vector<float>(12, 0.0f));
    }
    // Not JSON, or not an object.
    const std::string zeros84(84, '\0');
    require_refused(dir, safetensors_bytes(R"({"fc1.weight": )", zeros84), "the header is not valid JSON");
    require_refused(dir, layout(weight, bias, fc2 + "} x"), "the header is not valid JSON");
    require_refused(dir, safetensors_bytes("{\"fc1.weight\xff\":" + weight + "}", zeros84),  // not UTF-8
                    "the header is not valid JSON");
    require_refused(dir, safetensors_bytes("[1, 2]", zeros84), "the header must be a JSON object");
    require_refused(dir, layout(weight, bias, fc2 + std::string("}\0 x", 4)),  // a parser may stop at the NUL
                    "the header is not valid JSON: it has a NUL byte at offset");
    // Entries of the wrong form.
    require_refused(dir, with_weight("[1]"), "tensor 'fc1.weight': the entry must be an object; got [1]");
    require_refused(dir, with_weight(R"({"shape":[3,4],"data_offsets":[0,48]})"),
                    "tensor 'fc1.weight': the entry has no \"dtype\"");
    require_refused(dir, with_weight(R"({"dtype":"F32","data_offsets":[0,48]})"), "the entry has no \"shape\"");
    require_refused(dir, with_weight(R"({"dtype":"F32","shape":[3,4]})"), "the entry has no \"data_offsets\"");
    require_refused(dir, with_weight(R"({"dtype":32,"shape":[3,4],"data_offsets":[0,48]})"), "unknown dtype 32");
    require_refused(dir, with_weight(entry("F16", "[3,4]", "[0,24]")),
                    "unknown dtype \"F16\" (known: F32, F64, I64, BOOL)");
    require_refused(dir, with_weight(entry("F32", "12", "[0,48]")),
                    "shape must be a list of non-negative integers; got 12");
    require_refused(dir, with_weight(entry("F32", "[-3,-4]", "[0,48]")), "non-negative integers; got [-3,-4]");
    require_refused(dir, with_weight(entry("F32", "[3.0,4]", "[0,48]")), "non-negative integers; got [3.0,4]");
    require_refused(dir, with_weight(entry("F32", "[\"3\",4]", "[0,48]")), "non-negative integers");
    require_refused(dir, with_weight(entry("F32", "[9223372036854775808]", "[0,48]")), "non-negative integers");
    // Sizes whose product overflows.
    require_refused(dir, with_weight(entry("F32", "[4294967296,4294967296]", "[0,48]")),
                    "shape [4294967296,4294967296] holds more elements or bytes than a 64-bit size can count");
    require_refused(dir, with_weight(entry("F64", "[1152921504606846976]", "[0,48]")), "or bytes than a 64-bit");
    // No bytes at all, but strides that overflow: refused as the engine refuses such a shape.
    require_refused(dir, with_weight(entry("F32", "[0,4611686018427387904,4611686018427387904]", "[0,0]")),
                    "holds more elements or bytes than a 64-bit size can count");
    require_refused(dir, with_weight(entry("F32", "[4294967296,4294967296,0]", "[0,0]")), "64-bit size");
    // Offsets of the wrong form, size, or place.
    require_refused(dir, with_weight(entry("F32", "[3,4]", "[0]")), "data_offsets must be [begin, end]");
    require_refused(dir, with_weight(entry("F32", "[3,4]", "[0,48,96]")), "data_offsets must be [begin, end]");
    require_refused(dir, with_weight(entry("F32", "[3,4]", "[48,0]")), "with 0 <= begin <= end; got [48,0]");
    require_refused(dir, with_weight(entry("F32", "[3,4]", "[-48,0]")), "data_offsets must be [begin, end]");
    require_refused(dir, with_weight(entry("F32", "[3,4]", "[0,18446744073709551615]")), "data_offsets must be");
    require_refused(dir, with_weight(entry("F32", "[3,4]", "[0,44]")),
                    "data_offsets [0,44] span 44 bytes but dtype F32 and shape [3, 4] need 48");
    require_refused(dir, with_weight(entry("F32", "[3,4]", "[1000,1048]")),
                    "data_offsets [1000,1048] point past the end of the 84-byte data buffer");
    // The tensors must tile the data buffer: no overlap, no gap, nothing after.
    require_refused(dir, layout(weight, entry("F32", "[3]", "[40,52]"), fc2),
                    "tensors 'fc1.weight' and 'fc1.bias' overlap in the data buffer");
    require_refused(dir, layout(weight, entry("F32", "[3]", "[52,64]"), entry("F32", "[2,3]", "[64,88]"), 88),
                    "bytes [48, 52) of the data buffer belong to no tensor");
    require_refused(dir, layout(weight, bias, fc2, 90), "the tensors cover 84 bytes but the data buffer holds 90");
    // Repeated keys, which a JSON parser would silently resolve.
    require_refused(dir, layout(weight, bias, fc2, 84, R"("fc1.weight":)" + weight + ","),
                    "the header has the key 'fc1.weight' twice");
    require_refused(dir, with_weight(R"({"dtype":"F32","dtype":"F64","shape":[3,4],"data_offsets":[0,48]})"),
                    "the header has the key 'dtype' twice");
    // Metadata other than string -> string, and a BOOL byte that is not 0 or 1.
    require_refused(dir, layout(weight, bias, fc2, 84, R"("__metadata__":"pt",)"),
                    "__metadata__ must be an object; got \"pt\"");
    require_refused(dir, layout(weight, bias, fc2, 84, R"("__metadata__":{"epoch":3},)"),
                    "__metadata__ must map strings to strings");
    require_refused(dir, safetensors_bytes(R"({"mask":)" + entry("BOOL", "[2]", "[0,2]") + "}", "\x01\x02"),
                    "tensor 'mask' has dtype BOOL but holds a byte other than 0 or 1");
}

TEST_CASE("safetensors: a header nested 10,000 to 1,000,000 levels deep is refused as it is read, naming the limit",
          "[safetensors]") {
    TempDir dir;
    const std::string refusal = "the header may nest objects and arrays 8 levels deep at most (safetensors needs 3); "
                                "got level 9";
    for (const std::size_t levels : {10'000, 100'000, 1'000'000}) {
        INFO(levels << " levels");
        const std::string arrays = std::string(levels, '[') + std::string(levels, ']');
        require_refused(dir, safetensors_bytes(R"({"a":)" + arrays + "}", ""), refusal);
        require_refused(dir, safetensors_bytes(R"({"a":)" + std::string(levels, '['), ""), refusal);  // unclosed
        std::string objects;
        for (std::size_t i = 0; i < levels; ++i) objects += R"({"a":)";
        require_refused(dir, safetensors_bytes(objects + "1" + std::string(levels, '}'), ""), refusal);
        require_refused(dir, safetensors_bytes(R"({"__metadata__":{"a":)" + arrays + "}}", ""), refusal);
    }
    // The limit itself: an entry may carry a key of its own nested up to level 8, not 9.
    const auto with_extra = [](std::size_t levels) {  // levels 1 and 2 are the header and the entry
        const std::string extra = std::string(levels - 2, '[') + std::string(levels - 2, ']');
        return safetensors_bytes(R"({"fc1.weight":{"dtype":"F32","shape":[3,4],"data_offsets":[0,48],"x":)" + extra +
                                     R"(},"fc1.bias":)" + entry("F32", "[3]", "[48,60]") + R"(,"fc2.weight":)" +
                                     entry("F32", "[2,3]", "[60,84]") + "}",
                                 std::string(84, '\0'));
    };
    write_bytes(dir.file("deep8.safetensors"), with_extra(8));
    TinyModel model;
    load_checkpoint(dir.file("deep8.safetensors"), model);
    require_refused(dir, with_extra(9), refusal);
}

TEST_CASE("safetensors: error messages quote at most 200 bytes of a long name or value from the file",
          "[safetensors]") {
    TempDir dir;
    const std::string long_name(1'000'000, 'n');
    std::string long_list = "[1";  // 100,000 sizes, the last one negative
    for (int i = 0; i < 100'000; ++i) long_list += ",1";
    long_list += ",-1]";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"({")" + long_name + R"(":[1]})", "tensor 'nnnnnnnnnn"},                   // a long name
        {R"({"a":)" + entry("F32", long_list, "[0,4]") + "}", "integers; got [1,1,1"},  // a huge shape
        {R"({"a":)" + entry("F32", "[1]", long_list) + "}", "data_offsets must be"},  // huge offsets
        {R"({"a":{"dtype":")" + long_name + R"(","shape":[1],"data_offsets":[0,4]}})", "unknown dtype \"nnnn"},
        {R"({"__metadata__":)" + long_list + "}", "__metadata__ must be an object; got [1,1,1"},
        {R"({"a":")" + long_name + "\x01\"}", "the header is not valid JSON"},  // the lexer quotes its last token
        {R"({")" + long_name + R"(":1,")" + long_name + R"(":1})", "the header has the key 'nnnn"},
    };
    for (const auto& [header, expected] : cases) {
        INFO(expected);
        const std::string path = dir.file("long.safetensors");
        write_bytes(path, safetensors_bytes(header, std::string(4, '\0')));
        try {
            load_safetensors(path);
            FAIL("the file was loaded");
        } catch (const std::invalid_argument& e) {
            const std::string message = e.what();
            CHECK_THAT(message, Catch::Contains(expected) && Catch::Contains("...") && Catch::Contains(path));
            CHECK(message.size() < 600);
        }
    }
}
