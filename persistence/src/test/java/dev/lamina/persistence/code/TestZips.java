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
}
