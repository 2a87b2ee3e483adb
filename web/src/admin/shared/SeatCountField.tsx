/** A whole number of seats (1 to 100,000, the API's bounds), as typed: the form checks and sends it. */
export function SeatCountField({
  label = 'Seats',
  value,
  onChange,
  field,
}: {
  label?: string;
  value: string;
  onChange: (value: string) => void;
  /** Its data-field, for tests. */
  field: string;
}) {
  return (
    <label>
      {label}
      <input
        type="number"
        min={1}
        max={100000}
        required
        inputMode="numeric"
        value={value}
        onInput={(event) => onChange(event.currentTarget.value)}
        data-field={field}
      />
    </label>
  );
}
