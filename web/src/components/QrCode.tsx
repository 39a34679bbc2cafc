import qrcode from "qrcode-generator";
import { useMemo } from "react";
import "./QrCode.css";

/**
 * A QR code as one SVG path: crisp at any size, from phone to projector. Error
 * correction "M" survives a glare or a smudge on a projected code.
 */
export function QrCode({ text, className }: { text: string; className?: string }) {
  const { size, path } = useMemo(() => {
    const code = qrcode(0, "M");
    code.addData(text);
    code.make();
    const count = code.getModuleCount();
    let d = "";
    for (let row = 0; row < count; row++) {
      for (let col = 0; col < count; col++) {
        if (code.isDark(row, col)) d += `M${col + 4} ${row + 4}h1v1h-1z`;
      }
    }
    // A quiet zone of four modules, as scanners expect.
    return { size: count + 8, path: d };
  }, [text]);
  return (
    <svg
      className={className ? `qr ${className}` : "qr"}
      viewBox={`0 0 ${size} ${size}`}
      role="img"
      aria-label={`QR code for ${text}`}
      shapeRendering="crispEdges"
    >
      <rect width={size} height={size} fill="#fff" rx="2" />
      <path d={path} fill="#0b1020" />
    </svg>
  );
}
