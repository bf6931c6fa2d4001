import '@testing-library/jest-dom/vitest';

// jsdom has no PointerEvent, so testing-library's `fireEvent.pointerDown` would send a bare
// Event without `button` or `pointerId`. Browsers have it; a MouseEvent with a pointer id is
// what the components read.
if (typeof window !== 'undefined' && typeof window.PointerEvent === 'undefined') {
  class PointerEventShim extends MouseEvent {
    readonly pointerId: number;
    readonly pointerType: string;
    constructor(type: string, init: PointerEventInit = {}) {
      super(type, init);
      this.pointerId = init.pointerId ?? 1;
      this.pointerType = init.pointerType ?? 'mouse';
    }
  }
  window.PointerEvent = PointerEventShim as unknown as typeof PointerEvent;
}
