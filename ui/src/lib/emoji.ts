/** The small emoji sets Duet offers: avatars at onboarding, and quick reactions. */

export const AVATAR_EMOJI: readonly { emoji: string; name: string }[] = [
  { emoji: '💛', name: 'yellow heart' },
  { emoji: '🌻', name: 'sunflower' },
  { emoji: '🐻', name: 'bear' },
  { emoji: '🦊', name: 'fox' },
  { emoji: '🌙', name: 'moon' },
  { emoji: '🍓', name: 'strawberry' },
  { emoji: '🐱', name: 'cat' },
  { emoji: '🌊', name: 'wave' },
  { emoji: '🌷', name: 'tulip' },
  { emoji: '☕', name: 'coffee' },
  { emoji: '🐼', name: 'panda' },
  { emoji: '🍀', name: 'clover' },
];

export const REACTION_EMOJI: readonly { emoji: string; name: string }[] = [
  { emoji: '💛', name: 'heart' },
  { emoji: '😂', name: 'laughing' },
  { emoji: '😮', name: 'surprised' },
  { emoji: '😢', name: 'sad' },
  { emoji: '👍', name: 'thumbs up' },
  { emoji: '🎉', name: 'party' },
  { emoji: '🙏', name: 'thank you' },
  { emoji: '🔥', name: 'fire' },
];
