#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace peerchat {

/// An append-only file of numbered records: what peerd has promised to keep
/// but not yet written to its database. A record is in the operating
/// system's hands when append() returns, so it survives a crash of the
/// process (kill -9), as a commit with SQLite's synchronous = NORMAL does; a
/// power cut may lose the last ones, never damage those before. Each record
/// is framed with its length and a CRC-32, so a torn or damaged tail is
/// recognised when the file is opened and cut off there.
/// Records are copied into a shared mapping of the file (the page cache
/// itself, where a write() would have put them), not written with a system
/// call each: the file is allocated ahead, kChunk bytes at a time, so that a
/// full disk refuses the append that needs more room, and never surprises a
/// later store into the mapping. Only the part from the last record's page
/// on is mapped (a chunk, or a record that needs more), so a log that grows
/// under load does not count in the process's memory. While open, the file
/// is longer than its records (zeros follow them); closed, it holds just
/// the records.
/// Not thread-safe: its owner serialises the calls.
class RedoLog
{
public:
    struct Record
    {
        std::uint64_t seq = 0;  ///< the record's number, given by the owner, increasing
        std::string payload;
    };

    /// Opens (creating it with mode 0600) the log at path and reads the
    /// records it holds, up to the first that is torn or damaged, where the
    /// file is cut off. Throws Poco::IOException saying why it cannot.
    explicit RedoLog(std::string path);
    ~RedoLog();
    RedoLog(const RedoLog&) = delete;
    RedoLog& operator=(const RedoLog&) = delete;

    /// The records the file held when it was opened, in file order (once: they are moved out).
    std::vector<Record> takeRecovered() { return std::move(_recovered); }

    /// Appends record. Throws Poco::IOException whose code() is the errno of
    /// the failure (ENOSPC on a full disk); the file is then as before.
    void append(std::uint64_t seq, std::string_view payload);

    /// Makes sure the disk has room for bytes more after the last record
    /// (allocating it); throws as append() does when not.
    void reserve(std::uint64_t bytes);

    /// Empties the file: every record is in the database and safe there.
    void clear();

    /// How many bytes the records take.
    std::uint64_t size() const { return _end; }

    const std::string& path() const { return _path; }

    /// How much the file grows by when a record does not fit.
    static constexpr std::uint64_t kChunk = 256 << 10;

private:
    void recover();
    /// Allocates the file up to at least end (a whole number of chunks past what it had).
    void allocate(std::uint64_t end);
    /// Maps the file from the page of _end on, up to at least end.
    void map(std::uint64_t end);
    void unmap();

    std::string _path;
    int _fd = -1;
    char* _map = nullptr;        ///< the file from _mapFrom on, _mapped bytes of it
    std::uint64_t _mapFrom = 0;
    std::uint64_t _mapped = 0;
    std::uint64_t _allocated = 0;  ///< how long the file is: records, then zeros
    std::uint64_t _end = 0;        ///< where the next record goes: the end of the last intact one
    std::vector<Record> _recovered;
};

} // namespace peerchat
