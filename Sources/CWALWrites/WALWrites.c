// SQLite writes each WAL frame with two calls (its 24-byte header, then its page), so a commit of
// n pages costs 2n `pwrite`s, each paying the kernel's fixed cost per call. This VFS wraps the
// default one and gathers a connection's frames, each header with the page written right after it,
// into one buffer, written with a single call when the commit's last frame is complete: a frame
// header carries the database's size only on a commit's last frame, so the page that follows such a
// header ends the commit, and the buffer goes to the file inside that page's own `xWrite`, before
// SQLite publishes the commit and with any error returned to it there. The buffer is also written
// before the WAL is read, synced, sized, truncated, controlled or closed, and before any write it
// does not gather, so every byte reaches the file in the order SQLite wrote it; a write of another
// shape (were SQLite to write a frame in one call) goes straight through. A WAL file belongs to one
// connection, which SQLite never uses from two threads at once, so the buffer needs no lock.
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "CWALWrites.h"

// The buffer holds many frames of the largest page (64 KiB); a piece is what the default VFS takes whole.
enum { BUFFER_BYTES = 1 << 20, PIECE_BYTES = 31 * 4096, FRAME_HEADER_BYTES = 24 };

typedef struct WALFile {
    sqlite3_file base;
    sqlite3_file *real;  // the default VFS's file, in the same allocation after this struct
    int isWAL;
    unsigned char *buffer;  // WAL files only, made at the first write: bytes not yet written, from `start`
    sqlite3_int64 start;
    int length;
    int commitFrame;  // the last header gathered was a commit's last frame: its page ends the commit
    int pageExpected;  // the last write was a frame header, gathered: its page may join it
    long long askedWrites, systemWrites;  // for tests (`handover_wal_writes_counts`)
} WALFile;

static sqlite3_vfs *defaultVFS;
static sqlite3_vfs walVFS;

#define REAL(f) (((WALFile *)(f))->real)

// Writes the buffer in pieces the default VFS takes whole: its `xWrite` writes at most 128 KiB
// less one byte in a call (it masks the length) and reports any longer write as a full disk.
static int flush(WALFile *file) {
    int rc = SQLITE_OK;
    for (int done = 0; done < file->length && rc == SQLITE_OK;) {
        int piece = file->length - done < PIECE_BYTES ? file->length - done : PIECE_BYTES;
        rc = file->real->pMethods->xWrite(file->real, file->buffer + done, piece, file->start + done);
        file->systemWrites += 1;
        done += piece;
    }
    file->length = 0;
    return rc;
}

static int walClose(sqlite3_file *f) {
    WALFile *file = (WALFile *)f;
    int rc = SQLITE_OK;
    if (file->buffer) {
        rc = flush(file);
        free(file->buffer);
        file->buffer = NULL;
    }
    int closed = file->real->pMethods->xClose(file->real);
    return rc != SQLITE_OK ? rc : closed;
}

static int walRead(sqlite3_file *f, void *data, int amount, sqlite3_int64 offset) {
    int rc = flush((WALFile *)f);
    return rc != SQLITE_OK ? rc : REAL(f)->pMethods->xRead(REAL(f), data, amount, offset);
}

static int walWrite(sqlite3_file *f, const void *data, int amount, sqlite3_int64 offset) {
    WALFile *file = (WALFile *)f;
    // Readers never write, so only a writer's WAL gets a buffer; without one, writes go straight through.
    if (file->isWAL && file->buffer == NULL) file->buffer = malloc(BUFFER_BYTES);
    if (file->buffer == NULL) return file->real->pMethods->xWrite(file->real, data, amount, offset);
    file->askedWrites += 1;
    int continues = file->length > 0 && offset == file->start + file->length && file->length + amount <= BUFFER_BYTES;
    int isPage = file->pageExpected && continues;
    file->pageExpected = 0;
    // Only a frame's header, and the page right after it, are gathered; anything else (the WAL's own
    // header, a checksum rewrite, a write of a shape this file does not know) goes to the file as it
    // comes, after what is gathered, so bytes reach the file in the order SQLite wrote them.
    if (amount == FRAME_HEADER_BYTES) {
        if (!continues) {
            int rc = flush(file);
            if (rc != SQLITE_OK) return rc;
            file->start = offset;
        }
        memcpy(file->buffer + file->length, data, FRAME_HEADER_BYTES);
        file->length += FRAME_HEADER_BYTES;
        // Bytes 4 to 7 of a frame header: the database's size in pages after a commit, else zero.
        const unsigned char *header = data;
        file->commitFrame = (header[4] | header[5] | header[6] | header[7]) != 0;
        file->pageExpected = 1;
        return SQLITE_OK;
    }
    if (isPage) {
        memcpy(file->buffer + file->length, data, (size_t)amount);
        file->length += amount;
        return file->commitFrame ? flush(file) : SQLITE_OK;
    }
    int rc = flush(file);
    if (rc != SQLITE_OK) return rc;
    file->systemWrites += 1;
    return file->real->pMethods->xWrite(file->real, data, amount, offset);
}

static int walTruncate(sqlite3_file *f, sqlite3_int64 size) {
    int rc = flush((WALFile *)f);
    return rc != SQLITE_OK ? rc : REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int walSync(sqlite3_file *f, int flags) {
    int rc = flush((WALFile *)f);
    return rc != SQLITE_OK ? rc : REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int walFileSize(sqlite3_file *f, sqlite3_int64 *size) {
    int rc = flush((WALFile *)f);
    return rc != SQLITE_OK ? rc : REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int walFileControl(sqlite3_file *f, int op, void *arg) {
    int rc = flush((WALFile *)f);
    return rc != SQLITE_OK ? rc : REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

// The rest pass straight through.
static int walLock(sqlite3_file *f, int level) { return REAL(f)->pMethods->xLock(REAL(f), level); }
static int walUnlock(sqlite3_file *f, int level) { return REAL(f)->pMethods->xUnlock(REAL(f), level); }
static int walCheckReservedLock(sqlite3_file *f, int *out) { return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out); }
static int walSectorSize(sqlite3_file *f) { return REAL(f)->pMethods->xSectorSize(REAL(f)); }
static int walDeviceCharacteristics(sqlite3_file *f) { return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f)); }
static int walShmMap(sqlite3_file *f, int page, int size, int extend, void volatile **out) {
    return REAL(f)->pMethods->xShmMap(REAL(f), page, size, extend, out);
}
static int walShmLock(sqlite3_file *f, int offset, int n, int flags) { return REAL(f)->pMethods->xShmLock(REAL(f), offset, n, flags); }
static void walShmBarrier(sqlite3_file *f) { REAL(f)->pMethods->xShmBarrier(REAL(f)); }
static int walShmUnmap(sqlite3_file *f, int deleteFlag) { return REAL(f)->pMethods->xShmUnmap(REAL(f), deleteFlag); }
static int walFetch(sqlite3_file *f, sqlite3_int64 offset, int amount, void **out) {
    return REAL(f)->pMethods->xFetch(REAL(f), offset, amount, out);
}
static int walUnfetch(sqlite3_file *f, sqlite3_int64 offset, void *page) { return REAL(f)->pMethods->xUnfetch(REAL(f), offset, page); }

static const sqlite3_io_methods walMethods = {
    3, walClose, walRead, walWrite, walTruncate, walSync, walFileSize, walLock, walUnlock, walCheckReservedLock, walFileControl,
    walSectorSize, walDeviceCharacteristics, walShmMap, walShmLock, walShmBarrier, walShmUnmap, walFetch, walUnfetch,
};

static int walOpen(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *outFlags) {
    (void)vfs;
    WALFile *file = (WALFile *)f;
    memset(file, 0, sizeof(WALFile));
    file->real = (sqlite3_file *)(file + 1);
    int rc = defaultVFS->xOpen(defaultVFS, name, file->real, flags, outFlags);
    if (file->real->pMethods == NULL) return rc;  // nothing opened: SQLite will not call xClose
    file->isWAL = (flags & SQLITE_OPEN_WAL) != 0;
    file->base.pMethods = &walMethods;
    return rc;
}

static int walDelete(sqlite3_vfs *v, const char *n, int s) { (void)v; return defaultVFS->xDelete(defaultVFS, n, s); }
static int walAccess(sqlite3_vfs *v, const char *n, int f, int *o) { (void)v; return defaultVFS->xAccess(defaultVFS, n, f, o); }
static int walFullPathname(sqlite3_vfs *v, const char *n, int size, char *out) {
    (void)v;
    return defaultVFS->xFullPathname(defaultVFS, n, size, out);
}
static void *walDlOpen(sqlite3_vfs *v, const char *n) { (void)v; return defaultVFS->xDlOpen(defaultVFS, n); }
static void walDlError(sqlite3_vfs *v, int n, char *m) { (void)v; defaultVFS->xDlError(defaultVFS, n, m); }
static void (*walDlSym(sqlite3_vfs *v, void *h, const char *s))(void) { (void)v; return defaultVFS->xDlSym(defaultVFS, h, s); }
static void walDlClose(sqlite3_vfs *v, void *h) { (void)v; defaultVFS->xDlClose(defaultVFS, h); }
static int walRandomness(sqlite3_vfs *v, int n, char *out) { (void)v; return defaultVFS->xRandomness(defaultVFS, n, out); }
static int walSleep(sqlite3_vfs *v, int us) { (void)v; return defaultVFS->xSleep(defaultVFS, us); }
static int walCurrentTime(sqlite3_vfs *v, double *out) { (void)v; return defaultVFS->xCurrentTime(defaultVFS, out); }
static int walGetLastError(sqlite3_vfs *v, int n, char *out) { (void)v; return defaultVFS->xGetLastError(defaultVFS, n, out); }
static int walCurrentTimeInt64(sqlite3_vfs *v, sqlite3_int64 *out) {
    (void)v;
    return defaultVFS->xCurrentTimeInt64(defaultVFS, out);
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int registered = SQLITE_ERROR;

static void registerOnce(void) {
    defaultVFS = sqlite3_vfs_find(NULL);
    // Only over the plain Unix VFS, whose files all have version 3 methods, as `walMethods` claims:
    // over another, SQLite could call a method the file under it lacks. Elsewhere nothing is gathered.
    if (defaultVFS == NULL || defaultVFS->iVersion < 2 || strcmp(defaultVFS->zName, "unix") != 0) return;
    walVFS = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)sizeof(WALFile) + defaultVFS->szOsFile,
        .mxPathname = defaultVFS->mxPathname,
        .zName = "handover-wal",
        .xOpen = walOpen,
        .xDelete = walDelete,
        .xAccess = walAccess,
        .xFullPathname = walFullPathname,
        .xDlOpen = walDlOpen,
        .xDlError = walDlError,
        .xDlSym = walDlSym,
        .xDlClose = walDlClose,
        .xRandomness = walRandomness,
        .xSleep = walSleep,
        .xCurrentTime = walCurrentTime,
        .xGetLastError = walGetLastError,
        .xCurrentTimeInt64 = walCurrentTimeInt64,
    };
    registered = sqlite3_vfs_register(&walVFS, 1);
}

int handover_wal_writes_register(void) {
    pthread_once(&once, registerOnce);
    return registered;
}

int handover_wal_writes_counts(void *connection, long long *asked, long long *written) {
    sqlite3_file *journal = NULL;
    int rc = sqlite3_file_control((sqlite3 *)connection, "main", SQLITE_FCNTL_JOURNAL_POINTER, &journal);
    if (rc != SQLITE_OK) return rc;
    if (journal == NULL || journal->pMethods != &walMethods || !((WALFile *)journal)->isWAL) return SQLITE_NOTFOUND;
    *asked = ((WALFile *)journal)->askedWrites;
    *written = ((WALFile *)journal)->systemWrites;
    return SQLITE_OK;
}
