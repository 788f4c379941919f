package dev.lamina.persistence.code;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Code packages for tests, built in memory. */
public final class TestZips {

  private TestZips() {}

  /** A zip of text files whose central directory marks every entry with the Unix {@code mode} (0 = no mode). */
  public static byte[] zip(Map<String, String> entries, int mode) {
    Map<String, byte[]> bytes = new LinkedHashMap<>();
    entries.forEach((name, text) -> bytes.put(name, text.getBytes(StandardCharsets.UTF_8)));
    return zipOf(bytes, mode);
  }

  /** A zip of the given files (in map order) with the Unix {@code mode} on every entry (0 = none). */
  public static byte[] zipOf(Map<String, byte[]> entries, int mode) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      for (Map.Entry<String, byte[]> e : entries.entrySet()) {
        zip.putNextEntry(new ZipEntry(e.getKey()));
        zip.write(e.getValue());
        zip.closeEntry();
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    byte[] out = bytes.toByteArray();
    if (mode != 0) {
      ByteBuffer buf = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
      int eocd = out.length - 22;
      int p = buf.getInt(eocd + 16);
      for (int i = 0; i < entries.size(); i++) {
        buf.putShort(p + 4, (short) ((3 << 8) | 20));
        buf.putInt(p + 38, mode << 16);
        p += 46 + Short.toUnsignedInt(buf.getShort(p + 28)) + Short.toUnsignedInt(buf.getShort(p + 30))
            + Short.toUnsignedInt(buf.getShort(p + 32));
      }
    }
    return out;
  }

  /** One DEFLATED entry of {@code size} zero bytes, written in chunks: a tiny zip with a huge content. */
  public static byte[] deflatedZeros(String name, long size) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    byte[] chunk = new byte[1 << 20];
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      zip.putNextEntry(new ZipEntry(name));
      for (long left = size; left > 0; left -= chunk.length) {
        zip.write(chunk, 0, (int) Math.min(chunk.length, left));
      }
      zip.closeEntry();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return bytes.toByteArray();
  }

  /**
   * A copy of {@code zip} whose central directory entry for {@code entry} has {@code value} in the
   * field at {@code offset} (relative to the entry's signature) of {@code width} 2 or 4 bytes:
   * a header that lies. Offsets: 8 flags, 10 method, 16 CRC-32, 20 compressed size, 24 size,
   * 42 local header offset.
   */
  public static byte[] withCentralField(byte[] zip, String entry, int offset, int width, long value) {
    byte[] copy = zip.clone();
    ByteBuffer buf = ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN);
    int p = centralEntry(buf, copy, entry);
    if (width == 2) {
      buf.putShort(p + offset, (short) value);
    } else {
      buf.putInt(p + offset, (int) value);
    }
    return copy;
  }

  /** The value of a central directory field of {@code entry} (see {@link #withCentralField}). */
  public static long centralField(byte[] zip, String entry, int offset, int width) {
    ByteBuffer buf = ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN);
    int p = centralEntry(buf, zip, entry);
    return width == 2 ? Short.toUnsignedInt(buf.getShort(p + offset)) : Integer.toUnsignedLong(buf.getInt(p + offset));
  }

  private static int centralEntry(ByteBuffer buf, byte[] zip, String entry) {
    int eocd = zip.length - 22;
    int count = Short.toUnsignedInt(buf.getShort(eocd + 10));
    int p = buf.getInt(eocd + 16);
    for (int i = 0; i < count; i++) {
      int nameLength = Short.toUnsignedInt(buf.getShort(p + 28));
      if (new String(zip, p + 46, nameLength, StandardCharsets.UTF_8).equals(entry)) {
        return p;
      }
      p += 46 + nameLength + Short.toUnsignedInt(buf.getShort(p + 30)) + Short.toUnsignedInt(buf.getShort(p + 32));
    }
    throw new IllegalArgumentException("no entry " + entry);
  }
}
