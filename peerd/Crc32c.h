#pragma once

#include <cstddef>
#include <cstdint>

namespace peerchat {

/// CRC-32C (Castagnoli, as in iSCSI and ext4) of size bytes at data: the
/// redo log's record check. In the processor's own instruction where it
/// has one (x86-64 with SSE 4.2), a tenth of the cost of zlib's CRC-32 on a
/// record of a chat line (docs/PERFORMANCE.md, fourteenth step); otherwise
/// from a table.
std::uint32_t crc32c(const char* data, std::size_t size);

/// The same from the table alone, whatever the processor has (for tests).
std::uint32_t crc32cFromTable(const char* data, std::size_t size);

} // namespace peerchat
