"""A filesystem for power-cut tests (run by the Swift tests; not a service).

  powercut_fs.py BACKING MOUNTPOINT TRIGGER

A FUSE passthrough over BACKING that keeps every write and truncation of a file apart, in memory,
until that file is fsynced (fsync or fdatasync): only then do they reach BACKING, in order, followed
by a real fsync. Reads see the unsynced data, as a page cache would. Creating the file TRIGGER
(outside the mount) is the power cut: every unsynced write is dropped, "CUT" is printed, and every
later call fails with EIO until the process is killed and the mount removed. (Not a signal: Python
runs signal handlers only between bytecodes, and the main thread stays inside libfuse.) The tests
kill the broker with SIGKILL first, so nothing runs between the last write and the cut. Mounting
again over the same BACKING is the machine coming back.

What it models: data written but not synced is lost at the cut, whatever the process did before
(close included). What it does not model: creations, renames and deletions reach BACKING at once
(a real cut can lose them when the directory was not synced); writes within one fsync are never
reordered or torn (a real disk may persist part of them, or a torn sector); the kernel's own caching
of attributes is left on. Prints "PORT 0" once mounted (the tests' readiness line).
"""
import errno
import os
import sys
import threading
import time

from fuse import FUSE, FuseOSError, Operations


class PowerCutFS(Operations):
    def __init__(self, root, trigger):
        self.root = os.path.realpath(root)
        self.guard = threading.RLock()
        self.pending = {}  # path -> [("w", offset, bytes) | ("t", length)]
        self.cut = False
        self.dropped = 0
        threading.Thread(target=self.watch, args=(trigger,), daemon=True).start()

    def watch(self, trigger):
        while not os.path.exists(trigger):
            time.sleep(0.005)
        self.power_cut()

    def power_cut(self):
        with self.guard:
            self.dropped = sum(len(ops) for ops in self.pending.values())
            self.pending.clear()
            self.cut = True
        print(f"CUT dropped {self.dropped} unsynced operations", flush=True)

    def init(self, path):
        print("PORT 0", flush=True)

    def full(self, path):
        return os.path.join(self.root, path.lstrip("/"))

    def alive(self):
        if self.cut:
            raise FuseOSError(errno.EIO)

    # Metadata, straight through.
    def access(self, path, mode):
        self.alive()
        if not os.access(self.full(path), mode):
            raise FuseOSError(errno.EACCES)

    def getattr(self, path, fh=None):
        with self.guard:
            self.alive()
            try:
                st = os.lstat(self.full(path))
            except OSError as e:
                raise FuseOSError(e.errno)
            attrs = {k: getattr(st, k) for k in ("st_atime", "st_ctime", "st_gid", "st_mode", "st_mtime", "st_nlink", "st_size", "st_uid")}
            if self.pending.get(path):
                attrs["st_size"] = self.logical_size(path, st.st_size)
            return attrs

    def readdir(self, path, fh):
        self.alive()
        return [".", ".."] + os.listdir(self.full(path))

    def mkdir(self, path, mode):
        self.alive()
        os.mkdir(self.full(path), mode)

    def rmdir(self, path):
        self.alive()
        os.rmdir(self.full(path))

    def chmod(self, path, mode):
        self.alive()
        os.chmod(self.full(path), mode)

    def chown(self, path, uid, gid):
        self.alive()
        os.chown(self.full(path), uid, gid)

    def utimens(self, path, times=None):
        self.alive()
        os.utime(self.full(path), times)

    def statfs(self, path):
        self.alive()
        s = os.statvfs(self.full(path))
        return {k: getattr(s, k) for k in ("f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail", "f_ffree", "f_files", "f_flag", "f_frsize", "f_namemax")}

    def unlink(self, path):
        with self.guard:
            self.alive()
            self.pending.pop(path, None)
            os.unlink(self.full(path))

    def rename(self, old, new):
        with self.guard:
            self.alive()
            os.rename(self.full(old), self.full(new))
            if old in self.pending:
                self.pending[new] = self.pending.pop(old)

    # Files: no descriptors kept; every call names the path.
    def create(self, path, mode, fi=None):
        self.alive()
        os.close(os.open(self.full(path), os.O_WRONLY | os.O_CREAT, mode))
        return 0

    def open(self, path, flags):
        self.alive()
        if not os.path.exists(self.full(path)):
            raise FuseOSError(errno.ENOENT)
        if flags & os.O_TRUNC:
            self.truncate(path, 0)
        return 0

    def logical_size(self, path, size):
        for op in self.pending.get(path, []):
            size = max(size, op[1] + len(op[2])) if op[0] == "w" else op[1]
        return size

    def read(self, path, size, offset, fh):
        with self.guard:
            self.alive()
            with open(self.full(path), "rb") as f:
                f.seek(offset)
                base = f.read(size)
                backing_size = os.fstat(f.fileno()).st_size
            buf = bytearray(base) + bytearray(size - len(base))
            current = backing_size
            for op in self.pending.get(path, []):
                if op[0] == "w":
                    _, at, data = op
                    start, end = max(at, offset), min(at + len(data), offset + size)
                    if start < end:
                        buf[start - offset:end - offset] = data[start - at:end - at]
                    current = max(current, at + len(data))
                else:
                    length = op[1]
                    if length < offset + size:
                        cut_from = max(length - offset, 0)
                        buf[cut_from:] = bytearray(len(buf) - cut_from)
                    current = length
            return bytes(buf[:max(0, min(size, current - offset))])

    def write(self, path, data, offset, fh):
        with self.guard:
            self.alive()
            self.pending.setdefault(path, []).append(("w", offset, bytes(data)))
            return len(data)

    def truncate(self, path, length, fh=None):
        with self.guard:
            self.alive()
            self.pending.setdefault(path, []).append(("t", length))

    def fsync(self, path, datasync, fh):
        with self.guard:
            self.alive()
            ops = self.pending.pop(path, [])
            fd = os.open(self.full(path), os.O_WRONLY)
            try:
                for op in ops:
                    if op[0] == "w":
                        os.pwrite(fd, op[2], op[1])
                    else:
                        os.ftruncate(fd, op[1])
                os.fsync(fd)
            finally:
                os.close(fd)
            return 0

    def fsyncdir(self, path, datasync, fh):
        self.alive()
        return 0

    def flush(self, path, fh):
        self.alive()
        return 0

    def release(self, path, fh):
        return 0


if __name__ == "__main__":
    backing, mountpoint, trigger = sys.argv[1], sys.argv[2], sys.argv[3]
    FUSE(PowerCutFS(backing, trigger), mountpoint, foreground=True, nothreads=False, allow_other=False)
