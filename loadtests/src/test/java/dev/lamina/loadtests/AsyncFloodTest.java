package dev.lamina.loadtests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class AsyncFloodTest {

  @Test
  void lagIsTheTimeBetweenTheSamplesWhereAnEventWasAcceptedAndCompleted() {
    // {seconds, accepted, completed}: counters count from the node's start (the first row is the base)
    List<double[]> rows = List.of(
        new double[] {0.0, 10, 4},
        new double[] {0.1, 12, 4},
        new double[] {0.2, 13, 5},
        new double[] {0.3, 13, 7},
        new double[] {0.4, 14, 7});
    // event 1 accepted at 0.1, done at 0.2; event 2 at 0.1 → 0.3; event 3 at 0.2 → 0.3; event 4 at
    // 0.4 → never (left out)
    assertArrayEquals(new double[] {100, 200, 100}, AsyncFlood.lags(rows, 1, 2), 1e-9);
  }

  @Test
  void noSamplesNoLags() {
    assertArrayEquals(new double[0], AsyncFlood.lags(List.of(), 1, 2));
  }
}
