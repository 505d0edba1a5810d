/**
 * Word lists for the synthetic catalogue. Each department has sub-categories, each an ordered
 * chain of leaf product types (the order is a "routine": users often buy the next leaf after the
 * previous one), plus attribute words and benefit phrases that end up in titles and descriptions.
 */

/** A department (top category). */
export interface Department {
  name: string;
  /** Sub-category name → ordered leaf product types (each leaf: [noun, base price]). */
  subs: Record<string, [string, number][]>;
  /** Attribute words (colours, scents, materials) used in titles. */
  attributes: string[];
  /** Adjectives used in titles. */
  adjectives: string[];
  /** Benefit phrases used in descriptions. */
  benefits: string[];
  /** Size/quantity strings. */
  sizes: string[];
}

export const DEPARTMENTS: Department[] = [
  {
    name: 'Beauty',
    subs: {
      'Skin Care': [['Foaming Cleanser', 12], ['Hydrating Toner', 15], ['Vitamin C Serum', 28], ['Night Moisturizer', 32], ['Eye Cream', 35]],
      Makeup: [['Primer', 18], ['Liquid Foundation', 30], ['Concealer', 16], ['Setting Powder', 20], ['Mascara', 14], ['Matte Lipstick', 12]],
      'Hair Care': [['Clarifying Shampoo', 10], ['Repair Conditioner', 11], ['Hair Mask', 19], ['Leave-In Spray', 15], ['Styling Gel', 9]],
      Fragrance: [['Eau de Toilette', 45], ['Eau de Parfum', 70], ['Body Mist', 18], ['Perfume Oil', 30]],
      'Bath & Body': [['Body Wash', 9], ['Sugar Scrub', 14], ['Body Lotion', 12], ['Hand Cream', 8]],
      Nails: [['Base Coat', 8], ['Nail Polish', 9], ['Top Coat', 8], ['Cuticle Oil', 10]],
    },
    attributes: ['Rose', 'Lavender', 'Coconut', 'Green Tea', 'Charcoal', 'Aloe', 'Vanilla', 'Citrus', 'Hyaluronic', 'Retinol', 'Argan Oil', 'Shea Butter', 'Nude', 'Coral', 'Berry', 'Ivory'],
    adjectives: ['Gentle', 'Ultra', 'Daily', 'Intensive', 'Radiant', 'Pure', 'Advanced', 'Natural', 'Long-Wear', 'Sheer', 'Sensitive'],
    benefits: ['hydrates dry skin', 'brightens dull complexion', 'reduces the look of fine lines', 'is free of parabens and sulfates', 'is dermatologist tested', 'lasts all day', 'absorbs quickly without residue', 'smooths frizz and adds shine', 'is cruelty free', 'soothes redness'],
    sizes: ['1 oz', '1.7 oz', '3.4 oz', '8 fl oz', '16 fl oz', '0.5 oz', '2 Pack'],
  },
  {
    name: 'Kitchen',
    subs: {
      Coffee: [['Coffee Grinder', 35], ['Pour-Over Dripper', 22], ['Paper Filters', 6], ['Gooseneck Kettle', 45], ['Travel Mug', 20]],
      Baking: [['Mixing Bowl Set', 25], ['Measuring Cups', 10], ['Silicone Spatula', 8], ['Baking Sheet', 15], ['Cooling Rack', 12]],
      Cookware: [['Cast Iron Skillet', 30], ['Nonstick Frying Pan', 28], ['Stock Pot', 40], ['Dutch Oven', 65], ['Pan Scraper', 6]],
      Knives: [['Chef Knife', 45], ['Paring Knife', 15], ['Cutting Board', 25], ['Knife Sharpener', 20]],
      Storage: [['Glass Containers', 28], ['Reusable Bags', 12], ['Spice Jars', 18], ['Label Maker', 30]],
    },
    attributes: ['Stainless Steel', 'Ceramic', 'Bamboo', 'Matte Black', 'Copper', 'Enameled', 'Borosilicate', 'Walnut', 'BPA-Free', 'Red', 'Sage Green'],
    adjectives: ['Professional', 'Compact', 'Heavy-Duty', 'Classic', 'Premium', 'Essential', 'Ergonomic', 'Stackable'],
    benefits: ['is dishwasher safe', 'heats evenly', 'is easy to clean', 'resists rust and stains', 'stores flat to save space', 'has a comfortable grip', 'comes with a lifetime warranty'],
    sizes: ['8 inch', '10 inch', '12 inch', '5 Quart', '3 Piece Set', '100 Count', '12 oz'],
  },
  {
    name: 'Sports',
    subs: {
      Running: [['Running Shoes', 90], ['Moisture-Wicking Socks', 12], ['Running Belt', 18], ['Foam Roller', 25], ['Hydration Vest', 55]],
      Yoga: [['Yoga Mat', 30], ['Yoga Blocks', 14], ['Stretch Strap', 9], ['Yoga Towel', 20]],
      Cycling: [['Bike Helmet', 50], ['Cycling Gloves', 20], ['Bike Light Set', 25], ['Water Bottle Cage', 10], ['Tire Repair Kit', 15]],
      Camping: [['Dome Tent', 120], ['Sleeping Bag', 70], ['Sleeping Pad', 45], ['Camp Stove', 40], ['Headlamp', 22]],
      Fitness: [['Resistance Bands', 15], ['Adjustable Dumbbells', 150], ['Jump Rope', 10], ['Workout Gloves', 18]],
    },
    attributes: ['Lightweight', 'Waterproof', 'Breathable', 'Reflective', 'Navy', 'Neon Yellow', 'Black', 'Ripstop', 'Carbon', 'Merino'],
    adjectives: ['Pro', 'Trail', 'Ultralight', 'Endurance', 'All-Season', 'Performance', 'Compact', 'Rugged'],
    benefits: ['packs down small', 'keeps you dry in the rain', 'is built for long distances', 'improves grip and stability', 'is tested by athletes', 'sets up in minutes'],
    sizes: ['Medium', 'Large', 'One Size', '2 Person', '20 Degree', 'Pair', '6 mm'],
  },
  {
    name: 'Pet Supplies',
    subs: {
      Dogs: [['Dog Leash', 15], ['Dog Harness', 25], ['Chew Toy', 10], ['Dog Bed', 45], ['Dental Treats', 12]],
      Cats: [['Cat Litter', 18], ['Litter Box', 30], ['Scratching Post', 35], ['Cat Toy Wand', 8], ['Cat Treats', 6]],
      Aquarium: [['Fish Tank', 60], ['Aquarium Filter', 30], ['Water Conditioner', 9], ['Fish Food', 7]],
      Grooming: [['Pet Shampoo', 12], ['Slicker Brush', 14], ['Nail Clipper', 11], ['Grooming Wipes', 9]],
    },
    attributes: ['Oatmeal', 'Chicken Flavor', 'Salmon', 'Unscented', 'Nylon', 'Plush', 'Orthopedic', 'Clumping', 'Rubber'],
    adjectives: ['Durable', 'Gentle', 'Calming', 'Natural', 'Indoor', 'Tough', 'Hypoallergenic'],
    benefits: ['is vet recommended', 'controls odor', 'keeps pets busy for hours', 'is made without fillers', 'is gentle on sensitive skin', 'is machine washable'],
    sizes: ['Small', 'Medium', 'Large', '10 lb', '20 gallon', '16 oz', '50 Count'],
  },
  {
    name: 'Electronics',
    subs: {
      Audio: [['Wireless Earbuds', 60], ['Over-Ear Headphones', 90], ['Earbud Case', 12], ['Bluetooth Speaker', 45]],
      Phone: [['Phone Case', 15], ['Screen Protector', 9], ['Fast Charger', 20], ['Charging Cable', 10], ['Car Mount', 18]],
      Computer: [['Wireless Mouse', 25], ['Mechanical Keyboard', 70], ['Mouse Pad', 10], ['USB-C Hub', 35], ['Laptop Stand', 30]],
      Camera: [['Action Camera', 150], ['Memory Card', 15], ['Camera Tripod', 30], ['Lens Cleaning Kit', 9]],
    },
    attributes: ['Noise Cancelling', 'USB-C', 'Bluetooth 5.3', 'RGB', 'Aluminum', 'Braided', 'Magnetic', '4K', 'Black', 'White'],
    adjectives: ['Smart', 'Portable', 'Fast', 'Slim', 'Wireless', 'Premium', 'Universal'],
    benefits: ['charges in under an hour', 'pairs instantly', 'is compatible with most devices', 'has a long battery life', 'is drop tested', 'comes with a two-year warranty'],
    sizes: ['64GB', '128GB', '6 ft', '3 ft', '2 Pack', 'Full Size', 'Compact'],
  },
];

/** Syllables brand names are built from. */
export const BRAND_SYLLABLES = ['lu', 'ma', 'vo', 'ria', 'zen', 'ka', 'tor', 'el', 'no', 'va', 'sol', 'bri', 'ox', 'fi', 'ra', 'gen', 'mi', 'tec', 'aur', 'po', 'lex', 'qui', 'sa', 'dor'];

/** Price tiers and their price multipliers. */
export const TIERS = [
  { name: 'budget', mult: 0.6, words: ['Value', 'Everyday', 'Basics'] },
  { name: 'mid', mult: 1.0, words: ['Classic', 'Select', 'Signature'] },
  { name: 'premium', mult: 1.9, words: ['Luxe', 'Reserve', 'Atelier'] },
] as const;
