#include "Crc32c.h"

#include <array>
#include <cstring>

namespace peerchat {

namespace {

// The Castagnoli polynomial, bits reversed.
constexpr std::uint32_t kPolynomial = 0x82f63b78u;

constexpr std::array<std::uint32_t, 256> makeTable()
{
    std::array<std::uint32_t, 256> table{};
    for (std::uint32_t byte = 0; byte < 256; ++byte) {
        std::uint32_t crc = byte;
        for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1u) != 0 ? kPolynomial : 0u);
        table[byte] = crc;
    }
    return table;
}

constexpr std::array<std::uint32_t, 256> kTable = makeTable();

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t crc32cByInstruction(const char* data, std::size_t size)
{
    std::uint64_t crc = 0xffffffffu;
    for (; size >= 8; data += 8, size -= 8) {
        std::uint64_t word;
        std::memcpy(&word, data, 8);
        crc = __builtin_ia32_crc32di(crc, word);
    }
    auto crc32 = static_cast<std::uint32_t>(crc);
    for (; size > 0; ++data, --size) crc32 = __builtin_ia32_crc32qi(crc32, static_cast<unsigned char>(*data));
    return crc32 ^ 0xffffffffu;
}

bool hasInstruction()
{
    // Asked once, on first use: static initialisers of other files may run before libgcc's own.
    static const bool has = (__builtin_cpu_init(), __builtin_cpu_supports("sse4.2"));
    return has;
}
#endif

} // namespace

std::uint32_t crc32cFromTable(const char* data, std::size_t size)
{
    std::uint32_t crc = 0xffffffffu;
    for (std::size_t i = 0; i < size; ++i) {
        crc = (crc >> 8) ^ kTable[(crc ^ static_cast<unsigned char>(data[i])) & 0xffu];
    }
    return crc ^ 0xffffffffu;
}

std::uint32_t crc32c(const char* data, std::size_t size)
{
#if defined(__x86_64__)
    if (hasInstruction()) return crc32cByInstruction(data, size);
#endif
    return crc32cFromTable(data, size);
}

} // namespace peerchat
