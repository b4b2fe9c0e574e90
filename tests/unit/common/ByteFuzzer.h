#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace peerchat::test {

/// Inputs for the decoders' robustness tests: random byte strings built from
/// raw bytes and protocol-looking tokens, and random mutations of valid
/// encodings. Seeded, so a failing input is the same on every run.
class ByteFuzzer
{
public:
    ByteFuzzer(std::uint32_t seed, std::vector<std::string> tokens) : _random(seed), _tokens(std::move(tokens)) {}

    /// A number in [0, n); n must be positive.
    std::size_t below(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(_random); }

    /// Up to maxPieces pieces, each a random byte or one of the tokens.
    std::string randomBytes(std::size_t maxPieces)
    {
        std::string out;
        const std::size_t pieces = below(maxPieces + 1);
        for (std::size_t i = 0; i < pieces; ++i) out += piece();
        return out;
    }

    /// input with one to four random edits: bytes flipped, inserted, deleted,
    /// duplicated, or the tail cut off.
    std::string mutate(std::string input)
    {
        const std::size_t edits = 1 + below(4);
        for (std::size_t i = 0; i < edits; ++i) edit(input);
        return input;
    }

private:
    std::string piece()
    {
        if (_tokens.empty() || below(2) == 0) return std::string(1, static_cast<char>(below(256)));
        return _tokens[below(_tokens.size())];
    }

    void edit(std::string& s)
    {
        const std::size_t at = below(s.size() + 1);
        switch (below(6)) {
        case 0:
            if (at < s.size()) s[at] = static_cast<char>(s[at] ^ (1u << below(8)));
            break;
        case 1:
            if (at < s.size()) s[at] = static_cast<char>(below(256));
            break;
        case 2:
            s.insert(at, piece());
            break;
        case 3:
            s.erase(at, 1 + below(8));
            break;
        case 4:
            s.insert(at, s.substr(below(s.size() + 1), 1 + below(16)));
            break;
        default:
            s.resize(at);
            break;
        }
    }

    std::mt19937 _random;
    std::vector<std::string> _tokens;
};

} // namespace peerchat::test
